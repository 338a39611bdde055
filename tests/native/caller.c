/* Consumer that really calls the 3.4.32 symbol: it has a relocation against it, so weakening the
   version need would not be safe and the task must refuse. */
void _ZSt21ios_base_library_initv(void);

int caller_answer(void) { _ZSt21ios_base_library_initv(); return 1; }
