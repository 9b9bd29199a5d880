/* engine.c -- under construction */
#include "spin.h"
