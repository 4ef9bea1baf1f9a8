#ifndef RELANCE_CQRENCODE_H
#define RELANCE_CQRENCODE_H
// libqrencode (QR code symbols). The include and library paths come from pkg-config
// (`libqrencode`), which SwiftPM runs for this system-library target.
#include <qrencode.h>
#endif
