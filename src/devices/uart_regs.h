// 16550A register offsets and bits (National Semiconductor PC16550D datasheet, table II;
// the same names as Linux include/uapi/linux/serial_reg.h).
#pragma once

#include <cstdint>

namespace kiln::uart {

// Offsets from the port base. With LCR.DLAB set, offsets 0 and 1 are the divisor latch instead.
inline constexpr uint64_t kRbrThr = 0;  // read: receiver buffer; write: transmitter holding
inline constexpr uint64_t kIer = 1;     // interrupt enable
inline constexpr uint64_t kIirFcr = 2;  // read: interrupt identification; write: FIFO control
inline constexpr uint64_t kLcr = 3;     // line control
inline constexpr uint64_t kMcr = 4;     // modem control
inline constexpr uint64_t kLsr = 5;     // line status
inline constexpr uint64_t kMsr = 6;     // modem status
inline constexpr uint64_t kScr = 7;     // scratch
inline constexpr uint64_t kDll = 0;     // divisor latch, low byte (DLAB = 1)
inline constexpr uint64_t kDlm = 1;     // divisor latch, high byte (DLAB = 1)
inline constexpr uint64_t kPortCount = 8;

// IER
inline constexpr uint8_t kIerRdi = 0x01;   // received data available
inline constexpr uint8_t kIerThri = 0x02;  // transmitter holding register empty
inline constexpr uint8_t kIerRlsi = 0x04;  // receiver line status
inline constexpr uint8_t kIerMsi = 0x08;   // modem status
inline constexpr uint8_t kIerMask = 0x0f;  // bits 4-7 are always 0 on a 16550A

// IIR: bit 0 set means "no interrupt pending"; bits 1-3 name the source; bits 6-7 set when FIFOs are on.
inline constexpr uint8_t kIirNoInt = 0x01;
inline constexpr uint8_t kIirMsi = 0x00;
inline constexpr uint8_t kIirThri = 0x02;
inline constexpr uint8_t kIirRdi = 0x04;
inline constexpr uint8_t kIirRlsi = 0x06;
inline constexpr uint8_t kIirFifoEnabled = 0xc0;

// FCR
inline constexpr uint8_t kFcrEnable = 0x01;
inline constexpr uint8_t kFcrClearRx = 0x02;
inline constexpr uint8_t kFcrClearTx = 0x04;
inline constexpr uint8_t kFcrTriggerMask = 0xc0;

// LCR
inline constexpr uint8_t kLcrDlab = 0x80;

// MCR
inline constexpr uint8_t kMcrDtr = 0x01;
inline constexpr uint8_t kMcrRts = 0x02;
inline constexpr uint8_t kMcrOut1 = 0x04;
inline constexpr uint8_t kMcrOut2 = 0x08;  // on PCs, gates the UART's interrupt onto the ISA IRQ line
inline constexpr uint8_t kMcrLoop = 0x10;
inline constexpr uint8_t kMcrMask = 0x1f;  // bits 5-7 are always 0 on a 16550A

// LSR
inline constexpr uint8_t kLsrDr = 0x01;    // data ready
inline constexpr uint8_t kLsrOe = 0x02;    // overrun error
inline constexpr uint8_t kLsrPe = 0x04;    // parity error
inline constexpr uint8_t kLsrFe = 0x08;    // framing error
inline constexpr uint8_t kLsrBi = 0x10;    // break interrupt
inline constexpr uint8_t kLsrThre = 0x20;  // transmitter holding register empty
inline constexpr uint8_t kLsrTemt = 0x40;  // transmitter empty
inline constexpr uint8_t kLsrErrors = kLsrOe | kLsrPe | kLsrFe | kLsrBi;

// MSR: low nibble are the "delta" bits (cleared by reading MSR), high nibble the input lines.
inline constexpr uint8_t kMsrDcts = 0x01;
inline constexpr uint8_t kMsrDdsr = 0x02;
inline constexpr uint8_t kMsrTeri = 0x04;  // trailing edge of RI
inline constexpr uint8_t kMsrDdcd = 0x08;
inline constexpr uint8_t kMsrCts = 0x10;
inline constexpr uint8_t kMsrDsr = 0x20;
inline constexpr uint8_t kMsrRi = 0x40;
inline constexpr uint8_t kMsrDcd = 0x80;
inline constexpr uint8_t kMsrDeltas = 0x0f;

}  // namespace kiln::uart
