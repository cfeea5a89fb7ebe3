/**
 * @file smtp-c.h
 * @brief µC/SMTPc's C API, with its meaning kept and its faults fixed (native, blocking, no Qt).
 *
 *     int  SMTPc_Connect(host, port, user, pwd, secure_cfg, &err)   handle, or -1
 *     void SMTPc_SendMsg(handle, &msg, &err)
 *     void SMTPc_Disconnect(handle, &err)
 *     void SMTPc_SendMail(host, port, user, pwd, secure_cfg, &msg, &err)
 *     void SMTPc_SetMbox(&mbox, name, addr, &err)
 *     void SMTPc_SetMsg(&msg, &err)
 *
 * Link with libsmtpc (`pkg-config --cflags --libs smtpc`): POSIX sockets and OpenSSL, no Qt.
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
 *  - A host name may have IPv6 and IPv4 addresses: they are tried in turn, the next one starting
 *    after 250 ms without an answer or at once when one fails (Happy Eyeballs, RFC 8305).
 *
 * Threads. Calls block: each runs its connection's I/O (poll() on its own socket) in the calling
 * thread until its step is done. The library starts no thread of its own, except a short-lived
 * one per name lookup so that SMTPc_CfgTimeout() covers DNS as well.
 *  - A handle may be used from any thread: opened in one, used in another, closed in a third.
 *    One call at a time per handle: a call on a handle that another thread is using waits until
 *    that call returns, then goes on (a SMTPc_Disconnect waits for the SMTPc_SendMsg under way,
 *    then closes; a call that finds its handle closed meanwhile fails with
 *    SMTPc_ERR_INVALID_HANDLE).
 *  - Different handles are independent: they run in different threads at the same time, and
 *    SMTPc_Connect, SMTPc_Disconnect and SMTPc_SendMail may run in several threads at once (the
 *    table of handles is locked, never during I/O).
 *  - SMTPc_ErrExplanation() is per thread: it describes the last call made in that thread.
 *    SMTPc_CfgAllowPlaintextAuth(), SMTPc_CfgTimeout() and SMTPc_CfgChunking() are process-wide
 *    and apply to the connections opened after the call.
 *  - No Qt and no hidden application object: the library can live beside a Qt program, or any
 *    other event loop, in the same process.
 */
#ifndef SMTPC_SMTP_C_H
#define SMTPC_SMTP_C_H

#include <stddef.h>

/**
 * @brief Marks the functions libsmtpc exports; everything else in the library stays hidden.
 *
 * Defined here, so the header needs no generated companion: with GCC and clang the functions
 * have default visibility (the library is built with hidden visibility for all else).
 */
#ifndef SMTPC_C_API
#if defined(__GNUC__) || defined(__clang__)
#define SMTPC_C_API __attribute__((visibility("default")))
#else
#define SMTPC_C_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** @brief What a call reports in its `err` argument: µC/SMTPc's codes, then the ones it lacked. */
typedef enum SMTPc_ERR {
  SMTPc_ERR_NONE = 0,               /**< No error. */
  /* µC/SMTPc's meanings */
  SMTPc_ERR_NULL_PTR = 1,           /**< A required argument is NULL. */
  SMTPc_ERR_INVALID_ARG = 2,        /**< An argument is not valid (address syntax, CR/LF in a field). */
  SMTPc_ERR_SOCK_CONN_FAILED = 3,   /**< Could not connect (refused, unreachable). */
  SMTPc_ERR_RX_FAILED = 4,          /**< Receiving from the server failed. */
  SMTPc_ERR_TX_FAILED = 5,          /**< Sending to the server failed. */
  SMTPc_ERR_LINE_TOO_LONG = 6,      /**< A line of the server's reply is over the limit. */
  SMTPc_ERR_STR_TOO_LONG = 7,       /**< A name or address does not fit its SMTPc_MBOX field. */
  SMTPc_ERR_REP = 8,                /**< The server answered with an error. */
  SMTPc_ERR_ENCODE = 9,             /**< The message could not be encoded. */
  SMTPc_ERR_AUTH_FAILED = 10,       /**< The server refused the user name or password. */
  SMTPc_ERR_SECURE_NOT_AVAIL = 11,  /**< TLS could not be started. */
  /* what µC/SMTPc could not say */
  SMTPc_ERR_HOST_NOT_FOUND = 20,    /**< The host name could not be resolved. */
  SMTPc_ERR_TIMEOUT = 21,           /**< The server did not answer in time (SMTPc_CfgTimeout()). */
  SMTPc_ERR_CONN_LOST = 22,         /**< The connection broke off. */
  SMTPc_ERR_TLS_HANDSHAKE = 23,     /**< The TLS handshake failed. */
  SMTPc_ERR_CERT_INVALID = 24,      /**< The server's certificate was refused. */
  SMTPc_ERR_STARTTLS_NOT_OFFERED = 25, /**< STARTTLS is required but the server does not offer it. */
  SMTPc_ERR_AUTH_NOT_OFFERED = 26,  /**< A login was given but the server offers no AUTH. */
  SMTPc_ERR_NO_COMMON_MECH = 27,    /**< No AUTH mechanism both sides support. */
  SMTPc_ERR_PLAINTEXT_AUTH_REFUSED = 28, /**< The password would go without TLS (SMTPc_CfgAllowPlaintextAuth()). */
  SMTPc_ERR_PROTOCOL = 29,          /**< The server broke the SMTP protocol. */
  SMTPc_ERR_SENDER_REJECTED = 30,   /**< The server refused the sender (MAIL FROM). */
  SMTPc_ERR_RCPT_REJECTED = 31,     /**< The server refused a recipient (RCPT TO). */
  SMTPc_ERR_MSG_TOO_LARGE = 32,     /**< The message is larger than the server takes. */
  SMTPc_ERR_MSG_REJECTED = 33,      /**< The server refused the message after its content. */
  SMTPc_ERR_SERVER_REFUSED = 34,    /**< The server refused the session (554 greeting, or 421). */
  SMTPc_ERR_FILE = 35,              /**< An attachment file cannot be read. */
  SMTPc_ERR_CANCELLED = 36,         /**< The session was cancelled. */
  SMTPc_ERR_INVALID_HANDLE = 37     /**< No open connection has this handle. */
} SMTPc_ERR;

/** @brief The size of SMTPc_MBOX::NameDisp, without its NUL (µC/SMTPc: SMTPc_CFG_MBOX_SIZE_DISP_NAME). */
#define SMTPc_MBOX_NAME_SIZE 256
/** @brief The size of SMTPc_MBOX::Addr, without its NUL (µC/SMTPc: SMTPc_CFG_MBOX_SIZE_ADDR; RFC 5321's
 *  path limit). */
#define SMTPc_MBOX_ADDR_SIZE 256

/** @brief A mailbox: a display name and an address. Fill it with SMTPc_SetMbox(). */
typedef struct SMTPc_MBOX {
  char NameDisp[SMTPc_MBOX_NAME_SIZE + 1]; /**< The display name (UTF-8), "" for none. */
  char Addr[SMTPc_MBOX_ADDR_SIZE + 1];     /**< The address, "user@example.org". */
} SMTPc_MBOX;

/** @brief An attachment: bytes in memory, or a file read when the message is sent. */
typedef struct SMTPc_ATTACH {
  const char* Name;        /**< The file name shown to the reader (UTF-8). */
  const char* ContentType; /**< The MIME type; NULL: guessed from Name. */
  const void* Data;        /**< The bytes in memory (ignored when Path is set). */
  size_t Size;             /**< How many bytes Data holds. */
  const char* Path;        /**< A file to read instead of Data; NULL: Data is used. */
} SMTPc_ATTACH;

/** @brief A message. Clear it with SMTPc_SetMsg(), then fill in what it carries. */
typedef struct SMTPc_MSG {
  SMTPc_MBOX* From;           /**< The author (header From:, and the envelope's sender). */
  SMTPc_MBOX** ToArray;       /**< The To: recipients. */
  size_t ToCount;             /**< How many ToArray holds. */
  SMTPc_MBOX** CCArray;       /**< The Cc: recipients. */
  size_t CCCount;             /**< How many CCArray holds. */
  SMTPc_MBOX** BCCArray;      /**< The Bcc: recipients: envelope only, never in a header. */
  size_t BCCCount;            /**< How many BCCArray holds. */
  SMTPc_MBOX* ReplyTo;        /**< The Reply-To: mailbox; may be NULL. */
  SMTPc_MBOX* Sender;         /**< The Sender: mailbox; may be NULL. */
  const char* Subject;        /**< The subject (UTF-8); may be NULL. */
  const char* ContentBodyMsg; /**< The text/plain body (UTF-8). */
  size_t ContentBodyMsgLen;   /**< How many bytes ContentBodyMsg holds. */
  const char* ContentBodyHtml; /**< An optional text/html alternative, NUL-terminated; may be NULL. */
  SMTPc_ATTACH* AttachArray;  /**< The attachments. */
  size_t AttachCount;         /**< How many AttachArray holds. */
  char MsgID[256];            /**< Out: the Message-ID given to the message. */
} SMTPc_MSG;

/** @brief SMTPc_DSN::Notify: when a delivery report is wanted (RFC 3461 §4.1); NEVER excludes the others. */
#define SMTPc_DSN_NOTIFY_SUCCESS 0x1u /**< when the message is delivered */
#define SMTPc_DSN_NOTIFY_FAILURE 0x2u /**< when it cannot be delivered */
#define SMTPc_DSN_NOTIFY_DELAY 0x4u   /**< when its delivery is delayed */
#define SMTPc_DSN_NOTIFY_NEVER 0x8u   /**< never, not even on failure */

/** @brief SMTPc_DSN::Ret: what a failure report returns of the message (RFC 3461 §4.3). */
typedef enum SMTPc_DSN_RET {
  SMTPc_DSN_RET_DEFAULT = 0, /**< not asked: the server chooses */
  SMTPc_DSN_RET_FULL = 1,    /**< the whole message */
  SMTPc_DSN_RET_HDRS = 2     /**< its headers only */
} SMTPc_DSN_RET;

/**
 * @brief The delivery reports (DSN, RFC 3461) a message asks for, given to SMTPc_SendMsgDsn().
 *
 * A struct of its own, not new fields of SMTPc_MSG, so that SMTPc_MSG keeps its size and layout
 * and programs built against an older smtp-c.h run unchanged. StructSize versions it: fill it with
 * SMTPc_SetDsn(), which sets StructSize to the size this header knows; a later libsmtpc that
 * appends fields reads only those the caller's StructSize covers, and takes the rest as their
 * defaults (zero: nothing asked).
 */
typedef struct SMTPc_DSN {
  size_t StructSize;          /**< sizeof(SMTPc_DSN) as the caller knows it; set by SMTPc_SetDsn(). */
  unsigned int Notify;        /**< SMTPc_DSN_NOTIFY_* bits for every recipient; 0: not asked. */
  SMTPc_DSN_RET Ret;          /**< RET=; SMTPc_DSN_RET_DEFAULT: not asked. */
  const char* EnvId;          /**< ENVID= (printable ASCII, at most 100 characters); NULL or "": none. */
  int NoOrcpt;                /**< non-zero: no ORCPT=rfc822;ADDRESS on RCPT (sent by default once anything is asked). */
  int SendWithoutIfNotOffered; /**< non-zero: a server without DSN gets the message without the requests, instead of
                                    SMTPc_ERR_MSG_REJECTED before MAIL. */
} SMTPc_DSN;

/** @brief How TLS starts when a SMTPc_SECURE_CFG is given. */
typedef enum SMTPc_SECURE_MODE {
  SMTPc_SECURE_IMPLICIT = 0, /**< TLS from the first byte (port 465), as µC/SMTPc's secure sockets. */
  SMTPc_SECURE_STARTTLS = 1  /**< STARTTLS (port 587), required: no clear-text fallback. */
} SMTPc_SECURE_MODE;

/**
 * @brief Asked when the server's certificate fails verification.
 * @param context  SMTPc_SECURE_CFG::TrustContext, as given.
 * @param subject  the certificate's subject ("CN=..., O=...").
 * @param problem  what is wrong with it, in one sentence.
 * @return non-zero to go on anyway, 0 to refuse (SMTPc_ERR_CERT_INVALID).
 *
 * Called in the thread that made the call which connects.
 */
typedef int (*SMTPc_TRUST_CALLBACK)(void* context, const char* subject, const char* problem);

/** @brief TLS settings: what to start, what to verify, whom to trust. */
typedef struct SMTPc_SECURE_CFG {
  SMTPc_SECURE_MODE Mode;              /**< Implicit TLS or STARTTLS. */
  const char* CommonName;              /**< The name to verify (and send as SNI); NULL: the host. */
  const char* CaFile;                  /**< More trusted CA certificates (a PEM file) beside the system's; may be NULL. */
  SMTPc_TRUST_CALLBACK TrustCallback;  /**< May be NULL: invalid certificates are refused. */
  void* TrustContext;                  /**< Passed to TrustCallback. */
} SMTPc_SECURE_CFG;

/**
 * @brief Opens a session: connects, says EHLO, starts TLS and logs in as asked.
 * @param host        the server's name or IP address.
 * @param port        the port; 0: 25 without secure_cfg, 465 for implicit TLS, 587 for STARTTLS.
 * @param username    the login; NULL or "": no AUTH.
 * @param password    the password (only read when username is given).
 * @param secure_cfg  TLS settings; NULL: STARTTLS if the server offers it.
 * @param err         out: SMTPc_ERR_NONE, or why it failed; may be NULL.
 * @return a handle for SMTPc_SendMsg() and SMTPc_Disconnect(), or -1.
 */
SMTPC_C_API int SMTPc_Connect(const char* host, unsigned short port, const char* username, const char* password,
                              const SMTPc_SECURE_CFG* secure_cfg, SMTPc_ERR* err);
/**
 * @brief Sends one message on an open session; returns when the server accepted or refused it.
 * @param handle  from SMTPc_Connect().
 * @param msg     the message; its MsgID is filled in.
 * @param err     out: SMTPc_ERR_NONE, or why it failed; may be NULL.
 */
SMTPC_C_API void SMTPc_SendMsg(int handle, SMTPc_MSG* msg, SMTPc_ERR* err);
/**
 * @brief SMTPc_SendMsg() asking for delivery reports (DSN, RFC 3461).
 * @param handle  from SMTPc_Connect().
 * @param msg     the message; its MsgID is filled in.
 * @param dsn     the reports asked, filled after SMTPc_SetDsn(); NULL: none (as SMTPc_SendMsg()).
 * @param err     out: SMTPc_ERR_NONE, or why it failed (SMTPc_ERR_INVALID_ARG for a bad ENVID or
 *                NOTIFY, SMTPc_ERR_MSG_REJECTED when the server does not offer DSN); may be NULL.
 */
SMTPC_C_API void SMTPc_SendMsgDsn(int handle, SMTPc_MSG* msg, const SMTPc_DSN* dsn, SMTPc_ERR* err);
/**
 * @brief Ends a session (QUIT) and frees its handle, from any thread.
 * @param handle  from SMTPc_Connect().
 * @param err     out: the session's first error (a failed message too), or SMTPc_ERR_NONE; may be NULL.
 */
SMTPC_C_API void SMTPc_Disconnect(int handle, SMTPc_ERR* err);
/**
 * @brief SMTPc_Connect(), SMTPc_SendMsg() and SMTPc_Disconnect() in one call.
 * @param host        the server's name or IP address.
 * @param port        the port; 0: the default (see SMTPc_Connect()).
 * @param username    the login; NULL or "": no AUTH.
 * @param password    the password.
 * @param secure_cfg  TLS settings; NULL: STARTTLS if the server offers it.
 * @param msg         the message; its MsgID is filled in.
 * @param err         out: SMTPc_ERR_NONE, or the first error; may be NULL.
 */
SMTPC_C_API void SMTPc_SendMail(const char* host, unsigned short port, const char* username, const char* password,
                                const SMTPc_SECURE_CFG* secure_cfg, SMTPc_MSG* msg, SMTPc_ERR* err);
/**
 * @brief Fills a mailbox, after checking the address (and that both fit).
 * @param mbox  the mailbox to fill.
 * @param name  the display name; may be NULL.
 * @param addr  the address.
 * @param err   out: SMTPc_ERR_NONE, SMTPc_ERR_STR_TOO_LONG or SMTPc_ERR_INVALID_ARG; may be NULL.
 */
SMTPC_C_API void SMTPc_SetMbox(SMTPc_MBOX* mbox, const char* name, const char* addr, SMTPc_ERR* err);
/**
 * @brief Clears a message (every field zero or NULL).
 * @param msg  the message.
 * @param err  out: SMTPc_ERR_NONE or SMTPc_ERR_NULL_PTR; may be NULL.
 */
SMTPC_C_API void SMTPc_SetMsg(SMTPc_MSG* msg, SMTPc_ERR* err);
/**
 * @brief Clears a delivery-report request (nothing asked) and sets its StructSize.
 * @param dsn  the request.
 * @param err  out: SMTPc_ERR_NONE or SMTPc_ERR_NULL_PTR; may be NULL.
 */
SMTPC_C_API void SMTPc_SetDsn(SMTPc_DSN* dsn, SMTPc_ERR* err);

/**
 * @brief Allows AUTH without TLS (test servers only).
 * @param allow  non-zero to allow. Off by default: RFC 4954 §4 and µC/SMTPc's note 5.
 */
SMTPC_C_API void SMTPc_CfgAllowPlaintextAuth(int allow);
/**
 * @brief Whether a server that offers CHUNKING gets the message in BDAT chunks (RFC 3030).
 *
 * A function like SMTPc_CfgAllowPlaintextAuth(), not a new field of SMTPc_SECURE_CFG or SMTPc_MSG:
 * those structs carry no size to version them, so a field would change their layout under
 * programs built against an older smtp-c.h.
 * @param use  non-zero (the default): BDAT when offered, and a binary message unchanged when
 *             BINARYMIME is offered too; 0: always DATA, as before.
 */
SMTPC_C_API void SMTPc_CfgChunking(int use);
/**
 * @brief Limits every wait (the name lookup and connection, the TLS handshake, each reply).
 * @param timeout_ms  milliseconds; 0 (the default): RFC 5321 §4.5.3.2's limits, 30 s to connect
 *                    and 2 to 10 minutes per reply. A wait that runs out gives SMTPc_ERR_TIMEOUT.
 */
SMTPC_C_API void SMTPc_CfgTimeout(unsigned long timeout_ms);
/**
 * @brief The explanation of the last error in this thread, with the server's reply.
 * @return "" after a call that succeeded; valid until the thread's next call.
 */
SMTPC_C_API const char* SMTPc_ErrExplanation(void);
/**
 * @brief The name of an error code.
 * @param err  a code.
 * @return "SMTPc_ERR_AUTH_FAILED", say; "SMTPc_ERR_?" for a value that is no code.
 */
SMTPC_C_API const char* SMTPc_ErrName(SMTPc_ERR err);

#ifdef __cplusplus
}
#endif

#endif /* SMTPC_SMTP_C_H */
