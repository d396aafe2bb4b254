"""Loading libbazoola.so.0 and declaring the C functions the module calls.

Where the library comes from, first match wins:
  1. the BAZOOLA_LIB environment variable (a path to the shared object);
  2. the path recorded in _libpath.py, written by `cmake --install`;
  3. the dynamic linker's search for "libbazoola.so.0" (LD_LIBRARY_PATH,
     ld.so.cache), which finds a library installed in a system directory.
"""
import ctypes
import os

from ctypes import (POINTER, c_char_p, c_int, c_int64, c_size_t,
                    c_uint64, c_void_p)

SONAME = "libbazoola.so.0"
MIN_VERSION = 100  # 0.1.0, as bz_version_number() counts


def _candidates():
    env = os.environ.get("BAZOOLA_LIB")
    if env:
        return [("BAZOOLA_LIB", env)]
    found = []
    try:
        from ._libpath import LIBPATH  # written at install time
        found.append(("installed path", LIBPATH))
    except ImportError:
        pass
    found.append(("the dynamic linker", SONAME))
    return found


def _load():
    tried = []
    for how, path in _candidates():
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{path} ({how}): {e}")
    raise ImportError("bazoola: cannot load libbazoola: tried "
                      + "; ".join(tried)
                      + ". Set BAZOOLA_LIB to the path of libbazoola.so.0.")


lib = _load()

# Opaque handles are plain pointers.
P = c_void_p


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


version_number = _fn("bz_version_number", c_int)
version = _fn("bz_version", c_char_p)
errmsg = _fn("bz_errmsg", c_char_p)
errkind = _fn("bz_errkind", c_char_p, c_int)
strerror = _fn("bz_strerror", c_char_p, c_int)
errno_ = _fn("bz_errno", c_int)

schema_parse = _fn("bz_schema_parse", c_int, c_char_p, c_size_t, POINTER(P))
schema_free = _fn("bz_schema_free", None, P)

options_new = _fn("bz_options_new", P)
options_free = _fn("bz_options_free", None, P)
options_set_create = _fn("bz_options_set_create", c_int, P, c_int)
options_set_lock_mode = _fn("bz_options_set_lock_mode", c_int, P, c_int)
options_set_cache_mb = _fn("bz_options_set_cache_mb", c_int, P, c_size_t)
options_set_sync = _fn("bz_options_set_sync", c_int, P, c_int)

open_ = _fn("bz_open", c_int, c_char_p, P, P, POINTER(P))
close = _fn("bz_close", None, P)

values_new = _fn("bz_values_new", P)
values_free = _fn("bz_values_free", None, P)
values_set_int = _fn("bz_values_set_int", c_int, P, c_char_p, c_int64)
values_set_strn = _fn("bz_values_set_strn", c_int, P, c_char_p, c_char_p,
                      c_size_t)
values_set_null = _fn("bz_values_set_null", c_int, P, c_char_p)
values_set_other = _fn("bz_values_set_other", c_int, P, c_char_p, c_char_p)

row_len = _fn("bz_row_len", c_size_t, P)
row_name = _fn("bz_row_name", c_char_p, P, c_size_t)
row_type = _fn("bz_row_type", c_int, P, c_size_t)
row_int = _fn("bz_row_int", c_int64, P, c_size_t)
row_str = _fn("bz_row_str", c_void_p, P, c_size_t, POINTER(c_size_t))
row_row = _fn("bz_row_row", P, P, c_size_t)
row_rows = _fn("bz_row_rows", P, P, c_size_t)
row_free = _fn("bz_row_free", None, P)
rows_len = _fn("bz_rows_len", c_size_t, P)
rows_at = _fn("bz_rows_at", P, P, c_size_t)
rows_free = _fn("bz_rows_free", None, P)

cond_new = _fn("bz_cond_new", P, c_int)
cond_add_int = _fn("bz_cond_add_int", c_int, P, c_char_p, c_int64)
cond_add_str = _fn("bz_cond_add_str", c_int, P, c_char_p, c_char_p)
cond_add_null = _fn("bz_cond_add_null", c_int, P, c_char_p)
cond_add_in_int = _fn("bz_cond_add_in_int", c_int, P, c_char_p, c_int64)
cond_add_in_str = _fn("bz_cond_add_in_str", c_int, P, c_char_p, c_char_p)
cond_and = _fn("bz_cond_and", P, P, P)
cond_or = _fn("bz_cond_or", P, P, P)
cond_not = _fn("bz_cond_not", P, P)
cond_free = _fn("bz_cond_free", None, P)


# Length-taking forms: condition strings may hold U+0000.
cond_add_strn = _fn("bz_cond_add_strn", c_int, P, c_char_p, c_char_p,
                    c_size_t)
cond_add_in_strn = _fn("bz_cond_add_in_strn", c_int, P, c_char_p,
                       c_char_p, c_size_t)

joins_new = _fn("bz_joins_new", P)
joins_add = _fn("bz_joins_add", c_int, P, c_char_p, c_char_p, c_char_p)
joins_add_inverse = _fn("bz_joins_add_inverse", c_int, P, c_char_p, c_char_p,
                        c_char_p)
joins_free = _fn("bz_joins_free", None, P)

insert = _fn("bz_insert", c_int, P, c_char_p, P, POINTER(P))
find_by_id = _fn("bz_find_by_id", c_int, P, c_char_p, c_int64, P, POINTER(P))
find_all = _fn("bz_find_all", c_int, P, c_char_p, P, POINTER(P))
find_by_cond = _fn("bz_find_by_cond", c_int, P, c_char_p, P, P, POINTER(P))
count = _fn("bz_count", c_int, P, c_char_p, P, POINTER(c_int64))
update_by_id = _fn("bz_update_by_id", c_int, P, c_char_p, c_int64, P,
                   POINTER(P))
delete_by_id = _fn("bz_delete_by_id", c_int, P, c_char_p, c_int64)
truncate = _fn("bz_truncate", c_int, P, c_char_p, c_int)

iter_open = _fn("bz_iter_open", c_int, P, c_char_p, P, P, POINTER(P))
iter_next = _fn("bz_iter_next", c_int, P, POINTER(P))
iter_close = _fn("bz_iter_close", None, P)

lock = _fn("bz_lock", c_int, P)
unlock = _fn("bz_unlock", c_int, P)
begin = _fn("bz_begin", c_int, P)
commit = _fn("bz_commit", c_int, P)
rollback = _fn("bz_rollback", c_int, P)

stats_read = _fn("bz_stats_read", c_int, c_char_p, POINTER(P))
stats_free = _fn("bz_stats_free", None, P)
stats_segment_name = _fn("bz_stats_segment_name", c_char_p, P)
stats_segment_size = _fn("bz_stats_segment_size", c_uint64, P)
stats_page_size = _fn("bz_stats_page_size", c_uint64, P)
stats_frames = _fn("bz_stats_frames", c_uint64, P)
stats_frames_used = _fn("bz_stats_frames_used", c_uint64, P)
stats_created_at = _fn("bz_stats_created_at", c_uint64, P)
stats_recoveries = _fn("bz_stats_recoveries", c_uint64, P)
stats_counter = _fn("bz_stats_counter", c_uint64, P, c_int)
stats_nfiles = _fn("bz_stats_nfiles", c_size_t, P)
stats_file_name = _fn("bz_stats_file_name", c_char_p, P, c_size_t)
stats_file_table = _fn("bz_stats_file_table", c_char_p, P, c_size_t)
stats_file_counter = _fn("bz_stats_file_counter", c_uint64, P, c_size_t,
                         c_int)
stats_file_frames = _fn("bz_stats_file_frames", c_uint64, P, c_size_t)
stats_file_size = _fn("bz_stats_file_size", c_int64, P, c_size_t)
stats_nprocs = _fn("bz_stats_nprocs", c_size_t, P)
stats_proc = _fn("bz_stats_proc", c_int, P, c_size_t, POINTER(c_int64),
                 POINTER(c_int), POINTER(c_uint64))
stats_lock = _fn("bz_stats_lock", c_uint64, P, c_int)
stats_wait_buckets = _fn("bz_stats_wait_buckets", c_size_t, P)
stats_wait_hist = _fn("bz_stats_wait_hist", c_uint64, P, c_size_t)
stats_nrecoveries_logged = _fn("bz_stats_nrecoveries_logged", c_size_t, P)
stats_recovery = _fn("bz_stats_recovery", c_int, P, c_size_t,
                     POINTER(c_int64), POINTER(c_uint64), POINTER(c_uint64),
                     POINTER(c_uint64))


if version_number() < MIN_VERSION:
    raise ImportError(f"bazoola: {lib._name} is libbazoola "
                      f"{version().decode()}; this module needs 0.1.0 or newer")

# bz_rc values (bazoola.h).
OK, EVALIDATION, ENOTFOUND, ECONSTRAINT, ECORRUPT, EINVAL, EIO, ENOMEM, \
    ESCHEMA, ELOCKED = range(10)
ROW, DONE = 100, 101
# bz_type
T_NULL, T_INT, T_STR, T_ROW, T_ROWS = range(5)
# bz_op
EQ, NE, LT, LE, GT, GE, SUBSTR, ISUBSTR, IN = range(1, 10)
