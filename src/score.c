/* score.c -- under construction */
#include "spin.h"
