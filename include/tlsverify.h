/* SPDX-License-Identifier: MIT */
/*
 * tlsverify.h: check a TLS server's certificate chain with GnuTLS, for
 * connections whose TLS library verifies nothing itself (Debian's libetpan
 * is built on GnuTLS and loads no trust anchors).  Called after the
 * handshake and before any credential is sent.
 */
#ifndef INTAKE_TLSVERIFY_H
#define INTAKE_TLSVERIFY_H

#include <stddef.h>

struct tlsverify_opts {
	const char	*host;		/* DNS name or IP literal, as configured */
	const char	*ca_file;	/* PEM trust anchors; NULL: system store */
	const char	*pin_sha256;	/* hex SHA-256 of the leaf DER, or NULL */
	int		 verify;	/* 0: skip chain and name */
};

/* One DER certificate as the server sent it; the chain is leaf first. */
struct tlsverify_cert {
	const unsigned char	*der;
	size_t			 len;
};

/*
 * With a pin: the leaf must have that SHA-256, nothing else is checked (the
 * pin is the trust decision).  Without: unless verify is 0, the chain must
 * lead to a trust anchor and the leaf must match the host name (an IP
 * literal is matched against IP address SANs).  0 when acceptable, -1 with
 * *err saying why (caller frees).
 */
int	 tlsverify_chain(const struct tlsverify_opts *,
	    const struct tlsverify_cert *chain, size_t n, char **err);

/* The host name as it must be matched: a copy without a trailing dot. */
char	*tlsverify_hostname(const char *host);

#endif
