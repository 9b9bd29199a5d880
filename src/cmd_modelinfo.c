/* cmd_modelinfo.c -- under construction */
#include "cli.h"
