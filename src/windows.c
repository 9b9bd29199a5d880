/* windows.c -- under construction */
#include "spin.h"
