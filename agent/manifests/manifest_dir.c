/* A directory of manifests with per-file last-good state. */
#include "agent/manifests/manifests.h"

#include "agent/common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void bl_manifest_cache_init(struct bl_manifest_cache *c)
{
	memset(c, 0, sizeof(*c));
}

static void file_free(struct bl_manifest_file *f)
{
	free(f->name);
	free(f->content);
	json_decref(f->objs);
	bl_errlist_free(&f->errs);
}

void bl_manifest_cache_free(struct bl_manifest_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		file_free(&c->files[i]);
	free(c->files);
	memset(c, 0, sizeof(*c));
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the regular files (symlinks followed, as ConfigMap volumes use them)
 * the loader reads. */
static int list_dir(int dfd, char ***names, size_t *n)
{
	DIR *d = fdopendir(dup(dfd));
	size_t cap = 0;
	struct dirent *de;
	struct stat st;
	int e = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char **nn;

		if (!bl_manifest_wanted(de->d_name) || fstatat(dfd, de->d_name, &st, 0) ||
		    !S_ISREG(st.st_mode))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			nn = realloc(*names, cap * sizeof(*nn));
			if (!nn) {
				e = -ENOMEM;
				break;
			}
			*names = nn;
		}
		(*names)[*n] = strdup(de->d_name);
		if (!(*names)[*n]) {
			e = -ENOMEM;
			break;
		}
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(**names), name_cmp);
	return e;
}

static int read_file(int dfd, const char *name, char **buf, size_t *len)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t cap, off = 0;
	ssize_t r;
	int e = 0;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		e = -errno;
	else if (st.st_size > BL_MANIFEST_MAX_BYTES)
		e = -EFBIG;
	if (e) {
		close(fd);
		return e;
	}
	/* the file may grow while read: read to EOF, not to st_size */
	cap = (size_t)st.st_size + 1;
	*buf = malloc(cap);
	while (*buf) {
		if (off + 1 >= cap) {
			char *nb = cap >= BL_MANIFEST_MAX_BYTES ? NULL : realloc(*buf, cap * 2);

			if (!nb) {
				e = cap >= BL_MANIFEST_MAX_BYTES ? -EFBIG : -ENOMEM;
				break;
			}
			*buf = nb;
			cap *= 2;
		}
		r = read(fd, *buf + off, cap - off - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			e = r < 0 ? -errno : 0;
			break;
		}
		off += (size_t)r;
	}
	if (!*buf)
		e = -ENOMEM;
	close(fd);
	if (e) {
		free(*buf);
		*buf = NULL;
		return e;
	}
	(*buf)[off] = 0;
	*len = off;
	return 0;
}

static void report(const struct bl_manifest_file *f, struct bl_errlist *errs, bool fresh)
{
	for (size_t i = 0; i < f->errs.n; i++) {
		if (fresh)
			log_warn("%s (%s)", f->errs.msgs[i],
				 f->objs ? "keeping its last good version" : "file not used");
		bl_errlist_add(errs, "%s", f->errs.msgs[i]);
	}
}

/* Brings f up to date with the file's bytes; sets *changed when its objects changed. */
static int refresh(int dfd, struct bl_manifest_file *f, bool *changed)
{
	char *buf;
	size_t len;
	json_t *objs;
	int e = read_file(dfd, f->name, &buf, &len);

	if (e == -ENOMEM)
		return e;
	if (e) {
		/* unreadable now: keep what we had, and retry next time */
		bl_errlist_clear(&f->errs);
		bl_errlist_add(&f->errs, "%s: cannot read: %s", f->name, strerror(-e));
		free(f->content);
		f->content = NULL;
		f->len = 0;
		f->bad = true;
		return 0;
	}
	if (f->content && f->len == len && !memcmp(f->content, buf, len)) {
		free(buf);
		return 1; /* unchanged: nothing to parse */
	}
	free(f->content);
	f->content = buf;
	f->len = len;
	bl_errlist_clear(&f->errs);
	e = bl_manifest_parse(f->name, buf, len, &objs, &f->errs);
	if (e == -ENOMEM)
		return e;
	f->bad = e != 0;
	if (!e) {
		*changed |= !f->objs || !json_equal(f->objs, objs);
		json_decref(f->objs);
		f->objs = objs;
	}
	return 0;
}

int bl_manifest_dir_load(struct bl_manifest_cache *c, const char *dir, struct bl_errlist *errs)
{
	struct bl_manifest_file *files;
	size_t n = 0, j = 0, bad = 0;
	bool changed = false;
	char **names;
	int dfd, e;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		e = -errno;
		bl_errlist_add(errs, "%s: cannot open directory: %s", dir, strerror(-e));
		return e;
	}
	e = list_dir(dfd, &names, &n);
	files = e ? NULL : calloc(n + 1, sizeof(*files));
	if (!files) {
		e = e ? e : -ENOMEM;
		goto out;
	}
	/* merge the sorted listing with the sorted cache: kept files move over as they are */
	for (size_t i = 0; i < n; i++) {
		while (j < c->n && strcmp(c->files[j].name, names[i]) < 0) {
			changed |= c->files[j].objs != NULL; /* deleted */
			file_free(&c->files[j++]);
		}
		if (j < c->n && !strcmp(c->files[j].name, names[i])) {
			files[i] = c->files[j++];
			free(names[i]);
		} else {
			files[i].name = names[i];
		}
		names[i] = NULL;
	}
	for (; j < c->n; j++) {
		changed |= c->files[j].objs != NULL;
		file_free(&c->files[j]);
	}
	free(c->files);
	c->files = files;
	c->n = n;
	for (size_t i = 0; i < n; i++) {
		int r = refresh(dfd, &files[i], &changed);

		if (r < 0) {
			e = r;
			break;
		}
		report(&files[i], errs, r == 0);
		bad += files[i].bad;
	}
	c->changed = changed;
	c->generation += changed;
out:
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	close(dfd);
	if (e)
		bl_errlist_add(errs, "%s: %s", dir, strerror(-e));
	return e ? e : (int)bad;
}

int bl_manifest_cache_objects(const struct bl_manifest_cache *c, json_t ***objs, size_t *n)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < c->n; i++)
		total += json_array_size(c->files[i].objs);
	*objs = calloc(total + 1, sizeof(**objs));
	*n = 0;
	if (!*objs)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = 0; j < json_array_size(c->files[i].objs); j++)
			(*objs)[k++] = json_array_get(c->files[i].objs, j);
	*n = k;
	return 0;
}
