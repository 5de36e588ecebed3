// libqrencode (Debian's libqrencode-dev), for the QR code `hallpass login` draws.
#ifndef HALLPASS_CQRENCODE_SHIM_H
#define HALLPASS_CQRENCODE_SHIM_H
#include <qrencode.h>
#endif
