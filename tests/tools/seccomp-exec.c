/* SPDX-License-Identifier: MIT */
/*
 * seccomp-exec ALLOWLIST PROGRAM [ARGS...]: run PROGRAM under the system
 * call restrictions intaked.service asks of systemd, so that a test can
 * prove the programs work inside them without a running systemd:
 *  - SystemCallFilter=: only the system calls named in ALLOWLIST (one per
 *    line, as `systemd-analyze syscall-filter` expands the unit's groups),
 *    anything else fails with EPERM (SystemCallErrorNumber=EPERM);
 *  - MemoryDenyWriteExecute=yes: no mapping both writable and executable,
 *    no mprotect() to executable;
 *  - RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX: other sockets fail
 *    with EAFNOSUPPORT;
 *  - NoNewPrivileges=yes.
 * Two filters, as systemd installs several: the kernel applies the most
 * restrictive verdict.  Built and run by tests/it/sandbox_syscalls.sh.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

static int
load_allowlist(const char *path)
{
	scmp_filter_ctx ctx;
	char line[128];
	FILE *f;
	int n = 0, rc;

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		return -1;
	}
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (ctx == NULL) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		int nr;

		line[strcspn(line, " \t\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#' || line[0] == '@')
			continue;
		/* Names this kernel or architecture lacks are skipped, as
		 * systemd does. */
		nr = seccomp_syscall_resolve_name(line);
		if (nr == __NR_SCMP_ERROR)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) == 0)
			n++;
	}
	fclose(f);
	rc = n > 0 ? seccomp_load(ctx) : -1;
	seccomp_release(ctx);
	if (n == 0)
		fprintf(stderr, "seccomp-exec: empty allow list %s\n", path);
	return rc == 0 ? 0 : -1;
}

static int
load_restrictions(void)
{
	static const int bad_families[] = { AF_UNSPEC, 3, 4, 5, 6, 7, 8, 9 };
	scmp_filter_ctx ctx;
	size_t i;
	int rc = 0;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return -1;
	/* MemoryDenyWriteExecute=yes */
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE,
	    PROT_EXEC | PROT_WRITE));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect),
	    1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
	    SCMP_SYS(pkey_mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(shmat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC));
	/* RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX */
	for (i = 0; i < sizeof(bad_families) / sizeof(bad_families[0]); i++)
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
		    SCMP_SYS(socket), 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)bad_families[i]));
	rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT),
	    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_GT, AF_INET6));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: seccomp-exec ALLOWLIST PROGRAM [ARGS...]\n");
		return 64;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		perror("prctl(PR_SET_NO_NEW_PRIVS)");
		return 71;
	}
	/* The allow list last: from then on seccomp(2) itself works only
	 * if the unit allows it (the parser child installs its own). */
	if (load_restrictions() == -1 || load_allowlist(argv[1]) == -1) {
		fprintf(stderr, "seccomp-exec: cannot load the filters\n");
		return 71;
	}
	execv(argv[2], argv + 2);
	fprintf(stderr, "seccomp-exec: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
