/*
 * curl_dl.c — loads libcurl at run time for the WebHDFS client (why: see
 * curl_dl.h). Every function hdfs.c calls is looked up once; a missing
 * library or symbol is reported, and hdfs:// paths then fail with that
 * message instead of the job failing to start.
 */
#include "curl_dl.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

ds_curl_api ds_curl;

/* The library's name, and each function with its place in ds_curl. */
static const char *const LIBCURL = "libcurl.so.4";
#define F(name, field) {name, offsetof(ds_curl_api, field)}
static const struct {
  const char *name;
  size_t offset;
} FUNCTIONS[] = {
    F("curl_global_init", global_init),       F("curl_easy_init", easy_init),
    F("curl_easy_cleanup", easy_cleanup),     F("curl_easy_reset", easy_reset),
    F("curl_easy_setopt", easy_setopt),       F("curl_easy_getinfo", easy_getinfo),
    F("curl_easy_pause", easy_pause),         F("curl_easy_strerror", easy_strerror),
    F("curl_slist_append", slist_append),     F("curl_slist_free_all", slist_free_all),
    F("curl_multi_init", multi_init),         F("curl_multi_cleanup", multi_cleanup),
    F("curl_multi_setopt", multi_setopt),     F("curl_multi_add_handle", multi_add_handle),
    F("curl_multi_remove_handle", multi_remove_handle), F("curl_multi_perform", multi_perform),
    F("curl_multi_poll", multi_poll),         F("curl_multi_info_read", multi_info_read),
};
#undef F
_Static_assert(sizeof FUNCTIONS / sizeof *FUNCTIONS == sizeof(ds_curl_api) / sizeof(void (*)(void)),
               "every entry of ds_curl_api is looked up");

const char *ds_curl_load(void) {
  static char why[512];
  void *lib = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(why, sizeof why, "cannot load %s (install libcurl4): %s", LIBCURL, dlerror());
    return why;
  }
  for (size_t i = 0; i < sizeof FUNCTIONS / sizeof *FUNCTIONS; i++) {
    void *f = dlsym(lib, FUNCTIONS[i].name);
    if (!f) {
      snprintf(why, sizeof why, "%s has no %s: %s", LIBCURL, FUNCTIONS[i].name, dlerror());
      return why;
    }
    /* POSIX: a dlsym result converts to the function pointer it stands for. */
    memcpy((char *)&ds_curl + FUNCTIONS[i].offset, &f, sizeof f);
  }
  return NULL;
}
