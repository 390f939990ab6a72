/* Leader election decisions: no Lease, ours, released, another's not yet expired and
 * expired by our own clock (never by the renewTime another host's clock wrote), a clock
 * running backwards, the renew deadline, and the records written. */
#include "controlplane/controllers/ctl_util.h"
#include "controlplane/controllers/leader_plan.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static json_t *lease(const char *holder, const char *extra)
{
	char buf[512];
	json_error_t e;
	json_t *j;

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"name\":\"bpflet-controlplane\",\"namespace\":\"kube-system\","
		 "\"resourceVersion\":\"42\"},\"spec\":{\"holderIdentity\":\"%s\"%s}}",
		 holder, extra ? extra : "");
	j = json_loads(buf, 0, &e);
	cr_assert(j, "%s", e.text);
	return j;
}

static long long spec_int(json_t *l, const char *f)
{
	char path[64];

	snprintf(path, sizeof(path), "spec.%s", f);
	return json_integer_value(bl_ctl_get(l, path));
}

Test(leader, no_lease_is_created)
{
	cr_assert_eq(bl_le_decide(NULL, "a", 100, 100, 15), BL_LE_CREATE);
}

Test(leader, ours_is_renewed_even_when_old)
{
	json_t *l = lease("a", ",\"leaseDurationSeconds\":15");

	cr_assert_eq(bl_le_decide(l, "a", 100, 100, 15), BL_LE_RENEW);
	/* a restart with the same identity takes its own Lease back at once */
	cr_assert_eq(bl_le_decide(l, "a", 1000, 0, 15), BL_LE_RENEW);
	json_decref(l);
}

Test(leader, released_or_holderless_is_taken_at_once)
{
	json_t *l = lease("", ",\"leaseDurationSeconds\":1");
	json_t *n = json_loads("{\"metadata\":{\"resourceVersion\":\"1\"},\"spec\":{}}", 0, NULL);

	cr_assert_eq(bl_le_decide(l, "a", 100, 100, 15), BL_LE_TAKE);
	cr_assert_eq(bl_le_decide(n, "a", 100, 100, 15), BL_LE_TAKE);
	json_decref(l);
	json_decref(n);
}

Test(leader, another_holder_until_expired_by_our_clock)
{
	json_t *l = lease("b", ",\"leaseDurationSeconds\":15,"
			       "\"renewTime\":\"2001-01-01T00:00:00.000000Z\"");

	/* a renewTime from long ago (another clock) does not make it expired: only
	 * 15 s of our own clock without a new version does */
	cr_assert_eq(bl_le_decide(l, "a", 100, 100, 15), BL_LE_WAIT);
	cr_assert_eq(bl_le_decide(l, "a", 114.9, 100, 15), BL_LE_WAIT);
	cr_assert_eq(bl_le_decide(l, "a", 115, 100, 15), BL_LE_WAIT);
	cr_assert_eq(bl_le_decide(l, "a", 115.1, 100, 15), BL_LE_TAKE);
	json_decref(l);
}

Test(leader, the_lease_says_how_long_it_lasts)
{
	json_t *l = lease("b", ",\"leaseDurationSeconds\":40");
	json_t *bad = lease("b", ",\"leaseDurationSeconds\":0");
	json_t *none = lease("b", NULL);

	cr_assert_eq(bl_le_decide(l, "a", 120, 100, 15), BL_LE_WAIT);
	cr_assert_eq(bl_le_decide(l, "a", 141, 100, 15), BL_LE_TAKE);
	/* no usable duration: ours */
	cr_assert_eq(bl_le_decide(bad, "a", 114, 100, 15), BL_LE_WAIT);
	cr_assert_eq(bl_le_decide(bad, "a", 116, 100, 15), BL_LE_TAKE);
	cr_assert_eq(bl_le_decide(none, "a", 116, 100, 15), BL_LE_TAKE);
	json_decref(l);
	json_decref(bad);
	json_decref(none);
}

Test(leader, a_clock_running_backwards)
{
	json_t *l = lease("b", ",\"leaseDurationSeconds\":15");

	cr_assert_eq(bl_le_decide(l, "a", 50, 100, 15), BL_LE_WAIT);
	cr_assert(bl_le_lost(50, 100, 10), "a leader whose clock went back stops");
	json_decref(l);
}

Test(leader, renew_deadline)
{
	cr_assert(!bl_le_lost(100, 100, 10));
	cr_assert(!bl_le_lost(110, 100, 10));
	cr_assert(bl_le_lost(110.01, 100, 10));
}

Test(leader, create_record)
{
	json_t *w = bl_le_record(NULL, BL_LE_CREATE, "a", 15, "2027-01-01T00:00:00.000001Z");

	cr_assert_str_eq(bl_ctl_str(w, "kind"), "Lease");
	cr_assert_str_eq(bl_ctl_str(w, "apiVersion"), "coordination.k8s.io/v1");
	cr_assert_str_eq(bl_ctl_str(w, "metadata.name"), "bpflet-controlplane");
	cr_assert_str_eq(bl_ctl_str(w, "metadata.namespace"), "kube-system");
	cr_assert_str_eq(bl_ctl_str(w, "spec.holderIdentity"), "a");
	cr_assert_eq(spec_int(w, "leaseDurationSeconds"), 15);
	cr_assert_eq(spec_int(w, "leaseTransitions"), 0);
	cr_assert_str_eq(bl_ctl_str(w, "spec.acquireTime"), "2027-01-01T00:00:00.000001Z");
	cr_assert_str_eq(bl_ctl_str(w, "spec.renewTime"), "2027-01-01T00:00:00.000001Z");
	json_decref(w);
}

Test(leader, renew_keeps_acquire_time_transitions_and_version)
{
	json_t *l = lease("a", ",\"leaseDurationSeconds\":15,\"leaseTransitions\":3,"
			       "\"acquireTime\":\"2027-01-01T00:00:00.000000Z\"");
	json_t *w = bl_le_record(l, BL_LE_RENEW, "a", 15, "2027-01-01T00:00:02.500000Z");

	cr_assert_str_eq(bl_ctl_str(w, "spec.acquireTime"), "2027-01-01T00:00:00.000000Z");
	cr_assert_str_eq(bl_ctl_str(w, "spec.renewTime"), "2027-01-01T00:00:02.500000Z");
	cr_assert_eq(spec_int(w, "leaseTransitions"), 3);
	cr_assert_str_eq(bl_ctl_str(w, "metadata.resourceVersion"), "42");
	cr_assert_str_eq(bl_ctl_str(l, "spec.renewTime") ?: "", "", "old left alone");
	json_decref(l);
	json_decref(w);
}

Test(leader, take_counts_a_transition)
{
	json_t *l = lease("b", ",\"leaseDurationSeconds\":40,\"leaseTransitions\":3,"
			       "\"acquireTime\":\"2027-01-01T00:00:00.000000Z\"");
	json_t *w = bl_le_record(l, BL_LE_TAKE, "a", 15, "2027-01-01T00:01:00.000000Z");
	json_t *first = lease("", NULL);
	json_t *w2 = bl_le_record(first, BL_LE_TAKE, "a", 15, "2027-01-01T00:01:00.000000Z");

	cr_assert_str_eq(bl_ctl_str(w, "spec.holderIdentity"), "a");
	cr_assert_eq(spec_int(w, "leaseDurationSeconds"), 15);
	cr_assert_eq(spec_int(w, "leaseTransitions"), 4);
	cr_assert_str_eq(bl_ctl_str(w, "spec.acquireTime"), "2027-01-01T00:01:00.000000Z");
	cr_assert_str_eq(bl_ctl_str(w, "metadata.resourceVersion"), "42",
			 "the write is conditional on the version read");
	cr_assert_eq(spec_int(w2, "leaseTransitions"), 1);
	json_decref(l);
	json_decref(w);
	json_decref(first);
	json_decref(w2);
}

Test(leader, release)
{
	json_t *l = lease("a", ",\"leaseDurationSeconds\":15,\"leaseTransitions\":2");
	json_t *w = bl_le_release(l, "2027-01-01T00:00:09.000000Z");

	cr_assert_str_eq(bl_ctl_str(w, "spec.holderIdentity"), "");
	cr_assert_eq(spec_int(w, "leaseDurationSeconds"), 1);
	cr_assert_eq(spec_int(w, "leaseTransitions"), 2);
	cr_assert_str_eq(bl_ctl_str(w, "metadata.resourceVersion"), "42");
	cr_assert_eq(bl_le_decide(w, "b", 0, 0, 15), BL_LE_TAKE, "released: taken at once");
	json_decref(l);
	json_decref(w);
}
