/* YAML 1.1 plain scalar resolution, as go-yaml v2 (under sigs.k8s.io/yaml) does it. */
#include "agent/manifests/yaml_json.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return true;
	return false;
}

/* [-+]? then 0x/0o/0b prefixed, 0-led octal or decimal digits, '_' separators allowed. */
static bool parse_int(const char *s, json_int_t *out)
{
	char digits[72];
	size_t n = 0;
	int base = 10;
	bool neg = false;
	char *end;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X' || s[1] == 'o' || s[1] == 'b')) {
		base = s[1] == 'o' ? 8 : s[1] == 'b' ? 2 : 16;
		s += 2;
	} else if (s[0] == '0' && s[1]) {
		base = 8;
	}
	for (; *s; s++) {
		if (*s == '_')
			continue;
		if (!isxdigit((unsigned char)*s) || n + 1 >= sizeof(digits))
			return false;
		digits[n++] = *s;
	}
	digits[n] = 0;
	if (!n)
		return false;
	errno = 0;
	unsigned long long v = strtoull(digits, &end, base);
	if (*end || errno || v > (unsigned long long)LLONG_MAX + neg)
		return false;
	*out = neg ? (json_int_t)(0 - v) : (json_int_t)v;
	return true;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool is_float(const char *s)
{
	bool digits = false;

	if (*s == '+' || *s == '-')
		s++;
	while (isdigit((unsigned char)*s)) {
		s++;
		digits = true;
	}
	if (*s == '.') {
		s++;
		while (isdigit((unsigned char)*s)) {
			s++;
			digits = true;
		}
	}
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return !*s;
}

json_t *bl_yaml_plain_scalar(const char *s, size_t len)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
					    "True", "TRUE", "on",  "On",  "ON",	 NULL};
	static const char *const falses[] = {"n",     "N",     "no",  "No",  "NO",  "false",
					     "False", "FALSE", "off", "Off", "OFF", NULL};
	json_int_t i;

	if (strlen(s) != len)
		return json_stringn(s, len);
	if (one_of(s, nulls))
		return json_null();
	if (one_of(s, trues))
		return json_true();
	if (one_of(s, falses))
		return json_false();
	if ((isdigit((unsigned char)*s) || *s == '-' || *s == '+') && parse_int(s, &i))
		return json_integer(i);
	if (is_float(s))
		return json_real(strtod(s, NULL));
	/* .inf/.nan have no JSON form: they stay strings, which no field we read accepts */
	return json_stringn(s, len);
}
