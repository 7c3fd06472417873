// Process start-up hook of the `tandem` executable: CTandemStart.c puts a function in the
// executable's .preinit_array, which the dynamic loader runs before any shared library's constructor.
// The target exports nothing; linking it into `tandem` is all it takes.
#ifndef CTANDEMSTART_H
#define CTANDEMSTART_H
#endif
