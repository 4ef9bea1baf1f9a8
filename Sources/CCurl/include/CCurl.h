#ifndef RELANCE_CCURL_H
#define RELANCE_CCURL_H

#include <curl/curl.h>
#include <stddef.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call.
// These wrappers fix the argument type of each option family.
CURLcode relance_curl_setopt_long(CURL *curl, CURLoption option, long value);
CURLcode relance_curl_setopt_string(CURL *curl, CURLoption option, const char *value);
CURLcode relance_curl_setopt_pointer(CURL *curl, CURLoption option, void *value);
CURLcode relance_curl_setopt_slist(CURL *curl, CURLoption option, struct curl_slist *value);
CURLcode relance_curl_getinfo_long(CURL *curl, CURLINFO info, long *value);
CURLcode relance_curl_getinfo_off_t(CURL *curl, CURLINFO info, long long *value);
CURLcode relance_curl_getinfo_double(CURL *curl, CURLINFO info, double *value);
/// The socket of a connection opened with CURLOPT_CONNECT_ONLY (CURLINFO_ACTIVESOCKET), -1 if none.
int relance_curl_active_socket(CURL *curl);

/// A growable byte buffer owned by the caller; used for response bodies,
/// uploads and captured server replies.
typedef struct relance_buffer {
    char *data;
    size_t length;
    size_t capacity;
    size_t read_offset;
} relance_buffer;

void relance_buffer_init(relance_buffer *buffer);
void relance_buffer_reset(relance_buffer *buffer);
void relance_buffer_free(relance_buffer *buffer);
int relance_buffer_append(relance_buffer *buffer, const char *bytes, size_t length);

/// Sends `upload` as the request body (CURLOPT_READFUNCTION) from its read_offset.
CURLcode relance_curl_set_upload(CURL *curl, relance_buffer *upload);
/// Appends the response body to `body` (CURLOPT_WRITEFUNCTION).
CURLcode relance_curl_set_body_sink(CURL *curl, relance_buffer *body);
/// Records every line the server sends in the protocol dialogue (CURLINFO_HEADER_IN
/// through CURLOPT_DEBUGFUNCTION) into `replies`. For SMTP this is the reply text,
/// with its enhanced status code, that libcurl does not otherwise expose.
CURLcode relance_curl_capture_replies(CURL *curl, relance_buffer *replies);

/// Guards the requests of one transfer (CURLOPT_PREREQFUNCTION, called once a connection
/// is ready and just before a request is written on it). libcurl sends a request again,
/// on a new connection, when a reused one dies after the request was written: the guard
/// lets the first request through and refuses any other, so a request is never sent twice
/// unseen. It also refuses the first one once the monotonic clock passed `fence_ns`.
typedef struct relance_request_guard {
    /// CLOCK_MONOTONIC nanoseconds after which no request may start; 0: no limit.
    long long fence_ns;
    /// Requests let through (0 or 1).
    int requests;
    /// 1: a second request (a re-send) was refused; 2: the fence refused the first.
    int refused;
} relance_request_guard;

/// Installs `guard` (reset) on the handle, with a fence `fence_in_ns` from now (0: none;
/// negative: already closed).
CURLcode relance_curl_set_request_guard(CURL *curl, relance_request_guard *guard, long long fence_in_ns);

#endif
