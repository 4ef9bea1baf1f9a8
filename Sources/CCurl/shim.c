#include "CCurl.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

CURLcode relance_curl_setopt_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}
CURLcode relance_curl_setopt_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}
CURLcode relance_curl_setopt_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}
CURLcode relance_curl_setopt_slist(CURL *curl, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(curl, option, value);
}
CURLcode relance_curl_getinfo_long(CURL *curl, CURLINFO info, long *value) {
    return curl_easy_getinfo(curl, info, value);
}
CURLcode relance_curl_getinfo_off_t(CURL *curl, CURLINFO info, long long *value) {
    curl_off_t v = 0;
    CURLcode rc = curl_easy_getinfo(curl, info, &v);
    *value = (long long)v;
    return rc;
}
CURLcode relance_curl_getinfo_double(CURL *curl, CURLINFO info, double *value) {
    return curl_easy_getinfo(curl, info, value);
}

int relance_curl_active_socket(CURL *curl) {
    curl_socket_t socket = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &socket) != CURLE_OK) return -1;
    return socket == CURL_SOCKET_BAD ? -1 : (int)socket;
}

void relance_buffer_init(relance_buffer *buffer) {
    buffer->data = NULL;
    buffer->length = 0;
    buffer->capacity = 0;
    buffer->read_offset = 0;
}
void relance_buffer_reset(relance_buffer *buffer) {
    buffer->length = 0;
    buffer->read_offset = 0;
}
void relance_buffer_free(relance_buffer *buffer) {
    free(buffer->data);
    relance_buffer_init(buffer);
}
int relance_buffer_append(relance_buffer *buffer, const char *bytes, size_t length) {
    if (buffer->length + length > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 1024;
        while (capacity < buffer->length + length) capacity *= 2;
        char *grown = realloc(buffer->data, capacity);
        if (!grown) return 0;
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->length, bytes, length);
    buffer->length += length;
    return 1;
}

static size_t read_upload(char *destination, size_t size, size_t count, void *userdata) {
    relance_buffer *upload = userdata;
    size_t room = size * count;
    size_t left = upload->length - upload->read_offset;
    size_t n = left < room ? left : room;
    if (n) memcpy(destination, upload->data + upload->read_offset, n);
    upload->read_offset += n;
    return n;
}

CURLcode relance_curl_set_upload(CURL *curl, relance_buffer *upload) {
    upload->read_offset = 0;
    CURLcode rc = curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
    if (rc != CURLE_OK) return rc;
    return curl_easy_setopt(curl, CURLOPT_READDATA, upload);
}

static size_t write_body(char *bytes, size_t size, size_t count, void *userdata) {
    size_t n = size * count;
    return relance_buffer_append(userdata, bytes, n) ? n : 0;
}

CURLcode relance_curl_set_body_sink(CURL *curl, relance_buffer *body) {
    CURLcode rc = curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
    if (rc != CURLE_OK) return rc;
    return curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
}

static int debug_capture(CURL *handle, curl_infotype type, char *data, size_t size, void *userdata) {
    (void)handle;
    if (type == CURLINFO_HEADER_IN) {
        relance_buffer *replies = userdata;
        // Keep the dialogue bounded: a chatty server cannot grow this without limit.
        if (replies->length + size > 65536) relance_buffer_reset(replies);
        relance_buffer_append(replies, data, size);
    }
    return 0;
}

CURLcode relance_curl_capture_replies(CURL *curl, relance_buffer *replies) {
    CURLcode rc = curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, debug_capture);
    if (rc != CURLE_OK) return rc;
    rc = curl_easy_setopt(curl, CURLOPT_DEBUGDATA, replies);
    if (rc != CURLE_OK) return rc;
    return curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
}

static long long monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static int request_guard(void *userdata, char *primary_ip, char *local_ip, int primary_port, int local_port) {
    (void)primary_ip;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    relance_request_guard *guard = userdata;
    if (guard->requests > 0) {
        guard->refused = 1;
        return CURL_PREREQFUNC_ABORT;
    }
    if (guard->fence_ns && monotonic_ns() >= guard->fence_ns) {
        guard->refused = 2;
        return CURL_PREREQFUNC_ABORT;
    }
    guard->requests = 1;
    return CURL_PREREQFUNC_OK;
}

CURLcode relance_curl_set_request_guard(CURL *curl, relance_request_guard *guard, long long fence_in_ns) {
    guard->requests = 0;
    guard->refused = 0;
    guard->fence_ns = fence_in_ns == 0 ? 0 : monotonic_ns() + fence_in_ns;
    CURLcode rc = curl_easy_setopt(curl, CURLOPT_PREREQFUNCTION, request_guard);
    if (rc != CURLE_OK) return rc;
    return curl_easy_setopt(curl, CURLOPT_PREREQDATA, guard);
}
