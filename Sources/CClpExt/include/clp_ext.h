#ifndef LIPSCOPE_CLP_EXT_H
#define LIPSCOPE_CLP_EXT_H
#include <coin/Clp_C_Interface.h>
#endif
