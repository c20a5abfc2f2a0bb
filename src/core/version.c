/* version.c: the library's version at run time (nst.h's NST_VERSION_*). */
#include "nst.h"

const char *nst_version(void) { return NST_VERSION_STRING; }
