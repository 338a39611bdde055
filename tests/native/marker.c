/* Consumer that references GLIBCXX_3.4.32 only through the GCC 13 marker, exactly as
   libLibTorchSharp.so does: a .globl with no use, hence a version need and no relocation. */
__asm__(".globl _ZSt21ios_base_library_initv");

int fake_old_function(void);

int marker_answer(void) { return fake_old_function() + 1; }
