#include "controlplane/controllers/quantity.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *suffix;
	long double mult;
} suffixes[] = {
	{"Ki", 1024.0L},
	{"Mi", 1024.0L * 1024},
	{"Gi", 1024.0L * 1024 * 1024},
	{"Ti", 1024.0L * 1024 * 1024 * 1024},
	{"Pi", 1024.0L * 1024 * 1024 * 1024 * 1024},
	{"Ei", 1024.0L * 1024 * 1024 * 1024 * 1024 * 1024},
	{"n", 1e-9L},
	{"u", 1e-6L},
	{"m", 1e-3L},
	{"", 1.0L},
	{"k", 1e3L},
	{"M", 1e6L},
	{"G", 1e9L},
	{"T", 1e12L},
	{"P", 1e15L},
	{"E", 1e18L},
};

/* digits[.digits] with at least one digit; returns the end or NULL */
static const char *number(const char *p, long double *v)
{
	long double scale = 0.1L;
	int digits = 0;

	*v = 0;
	for (; *p >= '0' && *p <= '9'; p++, digits++)
		*v = *v * 10 + (*p - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits++, scale /= 10)
			*v += (*p - '0') * scale;
	return digits ? p : NULL;
}

int bl_quantity_milli(json_t *v, int64_t *out)
{
	long double val, mult = -1, milli;
	const char *s, *p;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) > INT64_MAX / 1000)
			return -1;
		*out = json_integer_value(v) * 1000;
		return 0;
	}
	s = json_string_value(v);
	if (!s)
		return -1;
	p = number(s[0] == '+' ? s + 1 : s, &val);
	if (!p)
		return -1;
	if ((*p == 'e' || *p == 'E') && p[1]) {
		char *end;
		long e = strtol(p + 1, &end, 10);

		if (*end || e < -30 || e > 30)
			return -1;
		for (mult = 1; e > 0; e--)
			mult *= 10;
		for (; e < 0; e++)
			mult /= 10;
	} else {
		for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
			if (!strcmp(p, suffixes[i].suffix))
				mult = suffixes[i].mult;
	}
	if (mult < 0)
		return -1;
	/* rounded up, as kube does for the milli scale; the tolerance absorbs the binary
	 * error of decimal fractions ("0.1" is 100m, not 101m) */
	milli = val * mult * 1000.0L - 1e-9L;
	if (milli < -1e-9L || milli > 9.2e18L)
		return -1;
	*out = (int64_t)milli;
	if ((long double)*out < milli)
		(*out)++;
	return 0;
}
