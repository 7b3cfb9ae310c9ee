/*
 * hex.h - one hex digit, for the parsers that read hex (signatures,
 * JSON \u escapes, URL %-escapes).
 */
#ifndef TH_HEX_H
#define TH_HEX_H

/* The value 0..15 of a hex digit of either case, or -1.  Branches on c:
 * callers use it on public data only (headers, bodies), never on a MAC. */
int hex_value(int c);

#endif
