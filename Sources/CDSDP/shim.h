#ifndef LIPSCOPE_CDSDP_SHIM_H
#define LIPSCOPE_CDSDP_SHIM_H
#include <dsdp/dsdp5.h>
#endif
