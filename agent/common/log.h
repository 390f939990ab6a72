/* Logging for every bpflet binary: one line per event on stderr, level first. */
#ifndef BPFLET_LOG_H
#define BPFLET_LOG_H

#include <stdarg.h>

enum bl_log_level { BL_LOG_DEBUG, BL_LOG_INFO, BL_LOG_WARN, BL_LOG_ERR };

void bl_log_set_level(enum bl_log_level lvl);
void bl_log_set_prefix(const char *prefix);
void bl_log(enum bl_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) bl_log(BL_LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  bl_log(BL_LOG_INFO, __VA_ARGS__)
#define log_warn(...)  bl_log(BL_LOG_WARN, __VA_ARGS__)
#define log_err(...)   bl_log(BL_LOG_ERR, __VA_ARGS__)

#endif
