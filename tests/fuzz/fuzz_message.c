/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: raw bytes -> message_parse -> triage_classify with the
 * built-in lexicon: the whole pipeline short of the database.  Also checks
 * message.h's promises (valid UTF-8 everywhere) and that the parser
 * child's wire format round-trips what the parser produced.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "parsechild.h"
#include "triage.h"
#include "util.h"

#include "fuzz_limits.h"
#include "../../daemon/parsechild_p.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_str(const char *s)
{
	if (s && !utf8_valid(s, strlen(s)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lexicon *lex;
	struct parse_limits lim;
	struct message m, back;
	struct triage_result tr;
	char *ser;
	size_t slen, i;

	if (lex == NULL)
		lex = lexicon_builtin();
	fuzz_parse_limits(&lim);
	message_parse((const char *)data, size, &lim, &m);
	if (m.text == NULL || m.text_len != strlen(m.text) ||
	    !utf8_valid(m.text, m.text_len))
		abort();
	check_str(m.subject);
	check_str(m.from_addr);
	check_str(m.from_name);
	check_str(m.message_id);
	for (i = 0; i < m.nheaders; i++) {
		check_str(m.headers[i].name);
		check_str(m.headers[i].value);
	}
	triage_classify(lex, &m, &tr);
	triage_result_free(&tr);
	if (message_serialize(&m, &ser, &slen) != 0 ||
	    message_deserialize(ser, slen, &back) != 0)
		abort();
	if (back.text_len != m.text_len || back.status != m.status ||
	    back.nheaders != m.nheaders)
		abort();
	message_free(&back);
	free(ser);
	message_free(&m);
	return 0;
}
