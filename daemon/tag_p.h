/* SPDX-License-Identifier: MIT */
/*
 * tag_p.h: private to tag.c and its tests (test_tag.c).
 */
#ifndef INTAKE_TAG_P_H
#define INTAKE_TAG_P_H

#include "config.h"

/* The key file of cfg->database: "DIR/tag.key".  Caller frees. */
char	*tag_key_path(const struct config *);

#endif
