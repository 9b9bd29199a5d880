/* cmd_impute.c -- under construction */
#include "cli.h"
