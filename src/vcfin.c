/* vcfin.c -- under construction */
#include "spin.h"
