/* cli.h -- under construction */
#pragma once
#include "spin.h"
