/*
 * curl_dl.h — libcurl, loaded when the first WebHDFS client is made.
 *
 * A job links no libcurl: loading it and the libraries it needs (TLS,
 * Kerberos, ...) took ~4 ms at every start, for jobs that mostly never touch
 * hdfs://. hdfs.c includes this header instead of <curl/curl.h>: it has
 * curl.h's types and constants, and its macros send the curl_* calls through
 * ds_curl, the table ds_curl_load fills with dlopen/dlsym.
 */
#ifndef DS_CURL_DL_H
#define DS_CURL_DL_H

/* No curl.h argument-checking macros: the calls go through ds_curl. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

typedef struct ds_curl_api {
  CURLcode (*global_init)(long flags);
  CURL *(*easy_init)(void);
  void (*easy_cleanup)(CURL *h);
  void (*easy_reset)(CURL *h);
  CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
  CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
  CURLcode (*easy_pause)(CURL *h, int bitmask);
  const char *(*easy_strerror)(CURLcode rc);
  struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
  void (*slist_free_all)(struct curl_slist *l);
  CURLM *(*multi_init)(void);
  CURLMcode (*multi_cleanup)(CURLM *m);
  CURLMcode (*multi_setopt)(CURLM *m, CURLMoption opt, ...);
  CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
  CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
  CURLMcode (*multi_perform)(CURLM *m, int *running);
  CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd extra[], unsigned n, int timeout_ms, int *numfds);
  CURLMsg *(*multi_info_read)(CURLM *m, int *left);
} ds_curl_api;

extern ds_curl_api ds_curl;

/* Loads libcurl.so.4 and fills ds_curl (once; not thread-safe: call under
 * pthread_once). NULL on success, else why it could not be loaded. */
const char *ds_curl_load(void);

/* curl.h defines these four as function-like macros (argument checks). */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#undef curl_share_setopt

#define curl_global_init ds_curl.global_init
#define curl_easy_init ds_curl.easy_init
#define curl_easy_cleanup ds_curl.easy_cleanup
#define curl_easy_reset ds_curl.easy_reset
#define curl_easy_setopt ds_curl.easy_setopt
#define curl_easy_getinfo ds_curl.easy_getinfo
#define curl_easy_pause ds_curl.easy_pause
#define curl_easy_strerror ds_curl.easy_strerror
#define curl_slist_append ds_curl.slist_append
#define curl_slist_free_all ds_curl.slist_free_all
#define curl_multi_init ds_curl.multi_init
#define curl_multi_cleanup ds_curl.multi_cleanup
#define curl_multi_setopt ds_curl.multi_setopt
#define curl_multi_add_handle ds_curl.multi_add_handle
#define curl_multi_remove_handle ds_curl.multi_remove_handle
#define curl_multi_perform ds_curl.multi_perform
#define curl_multi_poll ds_curl.multi_poll
#define curl_multi_info_read ds_curl.multi_info_read

#endif
