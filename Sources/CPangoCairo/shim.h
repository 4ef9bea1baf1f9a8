#ifndef RELANCE_CPANGOCAIRO_H
#define RELANCE_CPANGOCAIRO_H
// Pango (text layout) over Cairo (drawing), with Cairo's PDF backend. The include paths come
// from pkg-config (`pangocairo`), which SwiftPM runs for this system-library target.
#include <cairo.h>
#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#endif
