/* Pod CIDR blocks: lowest free first, distinct, adoption of existing ones, release and
 * reuse, exhaustion, and what is not a block. */
#include "controlplane/controllers/cidr_alloc.h"

#include <criterion/criterion.h>
#include <errno.h>

static struct bl_cidr_alloc A(const char *cluster, int mask) {
	struct bl_cidr_alloc a;
	struct bl_cidr4 c;

	cr_assert_eq(bl_cidr4_parse(cluster, &c), 0);
	cr_assert_eq(bl_cidr_alloc_init(&a, &c, mask), 0);
	return a;
}

Test(cidr_alloc, next_distinct_then_exhausted)
{
	struct bl_cidr_alloc a = A("10.244.0.0/22", 24);
	char buf[32];

	cr_assert_eq(a.n, 4);
	cr_assert_eq(bl_cidr_alloc_next(&a, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "10.244.0.0/24");
	cr_assert_eq(bl_cidr_alloc_next(&a, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "10.244.1.0/24");
	cr_assert_eq(bl_cidr_alloc_next(&a, buf, sizeof(buf)), 0);
	cr_assert_eq(bl_cidr_alloc_next(&a, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "10.244.3.0/24");
	cr_assert_eq(bl_cidr_alloc_next(&a, buf, sizeof(buf)), -1, "all four taken");
	cr_assert_eq(a.nused, 4);
	/* released: the lowest free one is handed out again */
	cr_assert_eq(bl_cidr_alloc_release(&a, "10.244.1.0/24"), 0);
	cr_assert_eq(bl_cidr_alloc_release(&a, "10.244.1.0/24"), -ENOENT, "free already");
	cr_assert_eq(bl_cidr_alloc_next(&a, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "10.244.1.0/24");
	bl_cidr_alloc_free(&a);
}

Test(cidr_alloc, adoption_keeps_existing_blocks)
{
	struct bl_cidr_alloc a = A("10.244.0.0/16", 24);
	char buf[32];

	/* what Nodes had before a restart */
	cr_assert_eq(bl_cidr_alloc_adopt(&a, "10.244.0.0/24"), 0);
	cr_assert_eq(bl_cidr_alloc_adopt(&a, "10.244.2.0/24"), 0);
	cr_assert_eq(bl_cidr_alloc_adopt(&a, "10.244.2.0/24"), -EEXIST, "a duplicate is seen");
	cr_assert_eq(bl_cidr_alloc_next(&a, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "10.244.1.0/24", "the gap, not an adopted block");
	cr_assert_eq(bl_cidr_alloc_next(&a, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "10.244.3.0/24");
	cr_assert_eq(a.nused, 4);
	bl_cidr_alloc_free(&a);
}

Test(cidr_alloc, not_blocks)
{
	struct bl_cidr_alloc a = A("10.244.0.0/16", 24);
	struct bl_cidr4 c;

	cr_assert_eq(bl_cidr_alloc_adopt(&a, "10.245.0.0/24"), -ERANGE, "outside");
	cr_assert_eq(bl_cidr_alloc_adopt(&a, "10.244.0.0/25"), -ERANGE, "another prefix length");
	cr_assert_eq(bl_cidr_alloc_adopt(&a, "10.244.1.7/24"), -ERANGE, "not aligned");
	cr_assert_eq(bl_cidr_alloc_adopt(&a, "garbage"), -EINVAL);
	cr_assert_eq(bl_cidr_alloc_adopt(&a, NULL), -EINVAL);
	cr_assert_eq(bl_cidr_alloc_release(&a, "10.245.0.0/24"), -ERANGE);
	cr_assert_eq(a.nused, 0, "nothing taken by bad input");
	bl_cidr_alloc_free(&a);
	bl_cidr4_parse("10.0.0.0/8", &c);
	cr_assert_eq(bl_cidr_alloc_init(&a, &c, 7), -1, "blocks bigger than the cluster");
	cr_assert_eq(bl_cidr_alloc_init(&a, &c, 32), -1, "a /32 has no pod addresses");
}

Test(cidr_alloc, odd_masks)
{
	struct bl_cidr_alloc a = A("172.16.0.0/12", 20);
	char buf[32];

	cr_assert_eq(a.n, 256);
	cr_assert_eq(bl_cidr_alloc_adopt(&a, "172.16.0.0/20"), 0);
	cr_assert_eq(bl_cidr_alloc_next(&a, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "172.16.16.0/20");
	bl_cidr_alloc_free(&a);
}
