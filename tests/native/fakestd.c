/* A stand-in for libstdc++: one function per symbol version. Built twice by tests/Build/NativeFixTests.fs:
   with fakestd-new.map (GLIBCXX_3.4.30 + GLIBCXX_3.4.32, like GCC 13's libstdc++) and, with
   -DFAKESTD_OLD, with fakestd-old.map (GLIBCXX_3.4.30 only, like Debian 12's). */

int fake_old_function(void) { return 30; }

#ifndef FAKESTD_OLD
/* The GCC 13 marker symbol: libstdc++ defines it, <iostream> makes every user reference it. */
void _ZSt21ios_base_library_initv(void) {}

int fake_new_function(void) { return 32; }
#endif
