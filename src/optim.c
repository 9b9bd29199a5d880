/* optim.c -- under construction */
#include "spin.h"
