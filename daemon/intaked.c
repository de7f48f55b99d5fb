/* SPDX-License-Identifier: MIT */
/* intake: the staff and cron tool.  Placeholder main until the command table lands. */
#include <stdio.h>

int
main(void)
{
	return 0;
}
