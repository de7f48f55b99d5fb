/* SPDX-License-Identifier: MIT */
/*
 * rota_p.h: private to rota.c and its tests (test_rota.c).
 */
#ifndef INTAKE_ROTA_P_H
#define INTAKE_ROTA_P_H

#include "rota.h"

/* Number of VEVENTs (shifts) in the rota. */
size_t		 rota_nevents(const struct rota *);

#endif
