/*
 * Calls that are easy to get wrong with untrusted input. Using one fails
 * the build; use the helper named in the message instead.
 */
#ifndef WPAY_BANNED_H
#define WPAY_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_wpay

#undef strcpy
#define strcpy(x, y) BANNED(strcpy_use_strlcopy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy_use_strlcopy)
#undef sprintf
#define sprintf(...) BANNED(sprintf_use_bufprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef atoi
#define atoi(x) BANNED(atoi_use_strtoll)
#undef atol
#define atol(x) BANNED(atol_use_strtoll)
#undef atof
#define atof(x) BANNED(atof)

#endif
