#ifndef TIPWIRE_CLIBPQ_SHIM_H
#define TIPWIRE_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#include <sys/select.h>
#include <poll.h>
#endif
