/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "source.h"
#include "util.h"

int
source_init(struct source *src, const struct source_config *cfg, char **err)
{
	memset(src, 0, sizeof(*src));
	src->cfg = cfg;
	switch (cfg->type) {
	case SOURCE_MAILDIR:
		return source_maildir_init(src, err);
	case SOURCE_IMAP:
		return source_imap_init(src, err);
	case SOURCE_HTTP:
		return source_http_init(src, err);
	default:
		*err = xasprintf("source '%s': this type cannot be polled",
		    cfg->name);
		return -1;
	}
}

void
source_close(struct source *src)
{
	if (src->ops && src->ops->close)
		src->ops->close(src);
	src->ops = NULL;
}
