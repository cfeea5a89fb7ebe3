/*
 * smtp-c.h: µC/SMTPc's C API, with its meaning kept and its faults fixed (native, blocking).
 *
 *   int  SMTPc_Connect(host, port, user, pwd, secure_cfg, &err)   handle, or -1
 *   void SMTPc_SendMsg(handle, &msg, &err)
 *   void SMTPc_Disconnect(handle, &err)
 *   void SMTPc_SendMail(host, port, user, pwd, secure_cfg, &msg, &err)
 *   void SMTPc_SetMbox(&mbox, name, addr, &err)
 *   void SMTPc_SetMsg(&msg, &err)
 *
 * Differences from µC/SMTPc, on purpose (see the README):
 *  - EHLO with a HELO fallback; multi-line replies; dot-stuffing; MIME with attachments.
 *  - secure_cfg == NULL means STARTTLS if the server offers it (verified against the system's CAs),
 *    not "never TLS"; a password is never sent without TLS unless SMTPc_CfgAllowPlaintextAuth(1).
 *  - Port 0 means 25 without secure_cfg, 465 for implicit TLS, 587 for STARTTLS.
 *  - The first error is kept: RSET and QUIT never overwrite it. SMTPc_ErrExplanation() says
 *    what went wrong and what to do, with the server's reply.
 *  - No fixed limits on recipients or attachments.
 *  - The fixed-size fields (SMTPc_MBOX's NameDisp and Addr) are read up to their first NUL and
 *    never past their end: a field filled to its last byte, with no NUL, is used as exactly that
 *    many bytes.
 *
 * Threads. Calls block (each runs a Qt event loop in the calling thread until its step is done).
 *  - A handle belongs to the thread that opened it with SMTPc_Connect: its connection runs in that
 *    thread, so use and close it from that thread only, one call at a time. A call with a handle
 *    opened by another thread fails with SMTPc_ERR_INVALID_HANDLE and changes nothing.
 *  - Different handles may be used in different threads at the same time, and SMTPc_Connect,
 *    SMTPc_Disconnect and SMTPc_SendMail may run in several threads at once: the table of handles
 *    is locked.
 *  - Close a handle before its thread ends.
 *  - SMTPc_ErrExplanation() is per thread. SMTPc_CfgAllowPlaintextAuth() is process-wide; set it
 *    before starting threads.
 *  - A QCoreApplication is created if the program has none. A threaded program should make its
 *    first call (or create its QCoreApplication) in the main thread.
 */
#ifndef SMTPC_SMTP_C_H
#define SMTPC_SMTP_C_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum SMTPc_ERR {
  SMTPc_ERR_NONE = 0,
  /* µC/SMTPc's meanings */
  SMTPc_ERR_NULL_PTR = 1,          /* a required argument is NULL */
  SMTPc_ERR_INVALID_ARG = 2,       /* an argument is not valid (address syntax, CR/LF in a field) */
  SMTPc_ERR_SOCK_CONN_FAILED = 3,  /* could not connect (refused, unreachable) */
  SMTPc_ERR_RX_FAILED = 4,
  SMTPc_ERR_TX_FAILED = 5,
  SMTPc_ERR_LINE_TOO_LONG = 6,
  SMTPc_ERR_STR_TOO_LONG = 7,      /* a name or address does not fit its SMTPc_MBOX field */
  SMTPc_ERR_REP = 8,               /* the server answered with an error */
  SMTPc_ERR_ENCODE = 9,
  SMTPc_ERR_AUTH_FAILED = 10,
  SMTPc_ERR_SECURE_NOT_AVAIL = 11, /* TLS could not be started */
  /* what µC/SMTPc could not say */
  SMTPc_ERR_HOST_NOT_FOUND = 20,
  SMTPc_ERR_TIMEOUT = 21,
  SMTPc_ERR_CONN_LOST = 22,
  SMTPc_ERR_TLS_HANDSHAKE = 23,
  SMTPc_ERR_CERT_INVALID = 24,
  SMTPc_ERR_STARTTLS_NOT_OFFERED = 25,
  SMTPc_ERR_AUTH_NOT_OFFERED = 26,
  SMTPc_ERR_NO_COMMON_MECH = 27,
  SMTPc_ERR_PLAINTEXT_AUTH_REFUSED = 28,
  SMTPc_ERR_PROTOCOL = 29,
  SMTPc_ERR_SENDER_REJECTED = 30,
  SMTPc_ERR_RCPT_REJECTED = 31,
  SMTPc_ERR_MSG_TOO_LARGE = 32,
  SMTPc_ERR_MSG_REJECTED = 33,
  SMTPc_ERR_SERVER_REFUSED = 34,   /* 554 greeting or 421 */
  SMTPc_ERR_FILE = 35,             /* an attachment file cannot be read */
  SMTPc_ERR_CANCELLED = 36,
  SMTPc_ERR_INVALID_HANDLE = 37
} SMTPc_ERR;

#define SMTPc_MBOX_NAME_SIZE 256 /* µC/SMTPc: SMTPc_CFG_MBOX_SIZE_DISP_NAME */
#define SMTPc_MBOX_ADDR_SIZE 256 /* µC/SMTPc: SMTPc_CFG_MBOX_SIZE_ADDR; RFC 5321 path limit */

typedef struct SMTPc_MBOX {
  char NameDisp[SMTPc_MBOX_NAME_SIZE + 1];
  char Addr[SMTPc_MBOX_ADDR_SIZE + 1];
} SMTPc_MBOX;

typedef struct SMTPc_ATTACH {
  const char* Name;        /* file name shown to the reader (UTF-8) */
  const char* ContentType; /* NULL: guessed from Name */
  const void* Data;        /* bytes in memory ... */
  size_t Size;
  const char* Path;        /* ... or a file to read (then Data is ignored) */
} SMTPc_ATTACH;

typedef struct SMTPc_MSG {
  SMTPc_MBOX* From;
  SMTPc_MBOX** ToArray;
  size_t ToCount;
  SMTPc_MBOX** CCArray;
  size_t CCCount;
  SMTPc_MBOX** BCCArray; /* envelope only, never in a header */
  size_t BCCCount;
  SMTPc_MBOX* ReplyTo;
  SMTPc_MBOX* Sender;
  const char* Subject;
  const char* ContentBodyMsg; /* text/plain, UTF-8 */
  size_t ContentBodyMsgLen;
  const char* ContentBodyHtml; /* optional text/html alternative, NUL-terminated */
  SMTPc_ATTACH* AttachArray;
  size_t AttachCount;
  char MsgID[256]; /* out: the Message-ID given to the message */
} SMTPc_MSG;

typedef enum SMTPc_SECURE_MODE {
  SMTPc_SECURE_IMPLICIT = 0, /* TLS from the first byte, as µC/SMTPc's secure sockets */
  SMTPc_SECURE_STARTTLS = 1  /* STARTTLS, required */
} SMTPc_SECURE_MODE;

/* Asked when the server's certificate fails verification; return non-zero to go on anyway. */
typedef int (*SMTPc_TRUST_CALLBACK)(void* context, const char* subject, const char* problem);

typedef struct SMTPc_SECURE_CFG {
  SMTPc_SECURE_MODE Mode;
  const char* CommonName;            /* the name to verify (and SNI); NULL: the host */
  const char* CaFile;                /* extra trusted CA certificates (PEM file); may be NULL */
  SMTPc_TRUST_CALLBACK TrustCallback; /* may be NULL: invalid certificates are refused */
  void* TrustContext;
} SMTPc_SECURE_CFG;

int SMTPc_Connect(const char* host, unsigned short port, const char* username, const char* password,
                  const SMTPc_SECURE_CFG* secure_cfg, SMTPc_ERR* err);
void SMTPc_SendMsg(int handle, SMTPc_MSG* msg, SMTPc_ERR* err);
void SMTPc_Disconnect(int handle, SMTPc_ERR* err);
void SMTPc_SendMail(const char* host, unsigned short port, const char* username, const char* password,
                    const SMTPc_SECURE_CFG* secure_cfg, SMTPc_MSG* msg, SMTPc_ERR* err);
void SMTPc_SetMbox(SMTPc_MBOX* mbox, const char* name, const char* addr, SMTPc_ERR* err);
void SMTPc_SetMsg(SMTPc_MSG* msg, SMTPc_ERR* err);

/* Allows AUTH without TLS (test servers only). Off by default: RFC 4954 §4 and µC/SMTPc's note 5. */
void SMTPc_CfgAllowPlaintextAuth(int allow);
/* The explanation of the last error on this thread ("" if none), with the server's reply. */
const char* SMTPc_ErrExplanation(void);
/* The name of an error code ("SMTPc_ERR_AUTH_FAILED"). */
const char* SMTPc_ErrName(SMTPc_ERR err);

#ifdef __cplusplus
}
#endif

#endif /* SMTPC_SMTP_C_H */
