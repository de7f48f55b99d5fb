/* SPDX-License-Identifier: MIT */
/*
 * tlsverify.c: certificate chain and host name verification with GnuTLS's
 * trust lists, as Claws Mail does for its libetpan sessions.  libetpan
 * gives us the DER chain the server sent; everything else happens here.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tlsverify.h"
#include "util.h"

char *
tlsverify_hostname(const char *host)
{
	size_t n = strlen(host);

	/* GnuTLS's name matching fails on "host.example." (curl #13949). */
	if (n > 1 && host[n - 1] == '.')
		n--;
	return xstrndup(host, n);
}

static int
load_anchors(gnutls_x509_trust_list_t tl, const char *ca_file, char **err)
{
	int n;

	if (ca_file) {
		n = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL,
		    GNUTLS_X509_FMT_PEM, 0, 0);
		if (n <= 0) {
			*err = xasprintf("ca_file %s: no usable certificate (%s)",
			    ca_file, n < 0 ? gnutls_strerror(n) : "empty");
			return -1;
		}
		return 0;
	}
	n = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (n <= 0) {
		*err = xasprintf("system trust store: no certificates (%s)",
		    n < 0 ? gnutls_strerror(n) : "empty");
		return -1;
	}
	return 0;
}

/* Import the DER blobs; *out[i] must be freed by the caller (deinit). */
static int
import_chain(const struct tlsverify_cert *chain, size_t n,
    gnutls_x509_crt_t *out, char **err)
{
	gnutls_datum_t d;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (gnutls_x509_crt_init(&out[i]) < 0) {
			*err = xstrdup("out of memory");
			return -1;
		}
		d.data = (unsigned char *)(uintptr_t)chain[i].der;
		d.size = (unsigned int)chain[i].len;
		rc = gnutls_x509_crt_import(out[i], &d, GNUTLS_X509_FMT_DER);
		if (rc < 0) {
			*err = xasprintf("server certificate %zu unreadable: %s",
			    i, gnutls_strerror(rc));
			return -1;
		}
	}
	return 0;
}

static int
verify_trust(const struct tlsverify_opts *o, gnutls_x509_crt_t *crts,
    size_t n, char **err)
{
	gnutls_x509_trust_list_t tl;
	gnutls_typed_vdata_st vdata[2];
	gnutls_datum_t why = { NULL, 0 };
	unsigned int status = 0;
	char *host;
	int rc;

	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		*err = xstrdup("out of memory");
		return -1;
	}
	if (load_anchors(tl, o->ca_file, err) == -1) {
		gnutls_x509_trust_list_deinit(tl, 1);
		return -1;
	}
	host = tlsverify_hostname(o->host);
	/* GnuTLS matches an IP literal given here against the certificate's
	 * IP address SANs, and a name against its DNS SANs. */
	memset(vdata, 0, sizeof(vdata));
	vdata[0].type = GNUTLS_DT_DNS_HOSTNAME;
	vdata[0].data = (unsigned char *)host;
	vdata[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	vdata[1].data = (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_SERVER;
	rc = gnutls_x509_trust_list_verify_crt2(tl, crts, (unsigned int)n,
	    vdata, 2, 0, &status, NULL);
	gnutls_x509_trust_list_deinit(tl, 1);
	if (rc < 0) {
		*err = xasprintf("certificate check for %s failed: %s", host,
		    gnutls_strerror(rc));
		free(host);
		return -1;
	}
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &why, 0) < 0)
			why.data = NULL;
		*err = xasprintf("certificate of %s refused: %s", host,
		    why.data ? (const char *)why.data : "not trusted");
		gnutls_free(why.data);
		free(host);
		return -1;
	}
	free(host);
	return 0;
}

static int
check_pin(const char *pin, const struct tlsverify_cert *leaf, char **err)
{
	char hex[65];

	sha256_hex(leaf->der, leaf->len, hex);
	if (strcasecmp(hex, pin) != 0) {
		*err = xasprintf("certificate pin mismatch: server sent sha256 %s",
		    hex);
		return -1;
	}
	return 0;
}

int
tlsverify_chain(const struct tlsverify_opts *o,
    const struct tlsverify_cert *chain, size_t n, char **err)
{
	gnutls_x509_crt_t *crts;
	size_t i;
	int rc;

	*err = NULL;
	if (n == 0) {
		*err = xstrdup("server sent no certificate");
		return -1;
	}
	/* A pin names the one certificate to accept (isync's
	 * CertificateFile): it replaces the chain and name checks, which is
	 * what makes a private server's self-signed certificate usable. */
	if (o->pin_sha256)
		return check_pin(o->pin_sha256, &chain[0], err);
	if (!o->verify)
		return 0;
	crts = xcalloc(n, sizeof(*crts));
	rc = import_chain(chain, n, crts, err);
	if (rc == 0)
		rc = verify_trust(o, crts, n, err);
	for (i = 0; i < n; i++)
		if (crts[i])
			gnutls_x509_crt_deinit(crts[i]);
	free(crts);
	return rc;
}
