/* Consumer linked only against the old provider: it needs GLIBCXX_3.4.30 but not GLIBCXX_3.4.32. */
int fake_old_function(void);

int plain_answer(void) { return fake_old_function() + 2; }
