//! Sending one mail through lettre: SMTP (STARTTLS, TLS or a local relay,
//! from `SMTP_URL`) or, when no SMTP server is configured, `.eml` files in
//! `<data dir>/mail` (logged) so a demo shows what would have been sent.
//!
//! Only the outbox dispatcher (`notify::dispatch`) calls this: handlers never
//! send mail themselves. The dispatcher decides what an error means, from
//! [`MailError::is_permanent`]: an SMTP 5xx (or a message that cannot be
//! built) is permanent and dead-lettered; a 4xx, a refused connection or a
//! timeout is temporary and retried with backoff.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use std::path::PathBuf;

use crate::config::MailConfig;

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail configuration: {0}")]
    Config(String),
    /// The message cannot be built (e.g. a malformed address): retrying will not help.
    #[error("mail could not be built: {0}")]
    Build(String),
    /// A 4xx answer, a refused or dropped connection, a timeout: try again later.
    #[error("mail not sent (temporary): {0}")]
    Temporary(String),
    /// A 5xx answer: the server refuses this message for good.
    #[error("mail refused (permanent): {0}")]
    Permanent(String),
}

impl MailError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, MailError::Build(_) | MailError::Permanent(_))
    }
}

/// One message as the dispatcher hands it over.
pub struct Outgoing<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    /// Without angle brackets: `<id>` is added.
    pub message_id: String,
    /// `nl` or `en` (Content-Language).
    pub language: &'a str,
    /// An iCalendar body and its METHOD (`REQUEST`, `CANCEL`).
    pub calendar: Option<(&'a str, &'a str)>,
}

impl Mailer {
    pub fn from_config(cfg: &MailConfig, data_dir: &std::path::Path) -> Result<Self, MailError> {
        let from: Mailbox = cfg.from.parse().map_err(|e| MailError::Config(format!("MAIL_FROM: {e}")))?;
        let transport = match &cfg.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| MailError::Config(format!("SMTP_URL: {e}")))?
                    .timeout(Some(std::time::Duration::from_secs(10)))
                    .build(),
            ),
            None => {
                let dir = data_dir.join("mail");
                std::fs::create_dir_all(&dir).map_err(|e| MailError::Config(format!("{}: {e}", dir.display())))?;
                Transport::Files(AsyncFileTransport::new(&dir), dir)
            }
        };
        Ok(Mailer { transport, from })
    }

    /// The address of `MAIL_FROM` (the organiser of calendar invitations).
    pub fn from_address(&self) -> String {
        self.from.email.to_string()
    }

    /// The domain of `MAIL_FROM`, used on the right of every `Message-ID`.
    pub fn domain(&self) -> String {
        self.from.email.domain().to_owned()
    }

    /// Send one message. See the module docs for what each error means.
    pub async fn deliver(&self, out: &Outgoing<'_>) -> Result<(), MailError> {
        let to: Mailbox = out.to.parse().map_err(|e| MailError::Build(format!("recipient: {e}")))?;
        let alternative = MultiPart::alternative()
            .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(out.text.to_owned()))
            .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(out.html.to_owned()));
        let body = match out.calendar {
            None => alternative,
            Some((method, ics)) => {
                let inline = ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
                    .map_err(|e| MailError::Build(e.to_string()))?;
                let file = ContentType::parse("application/ics").map_err(|e| MailError::Build(e.to_string()))?;
                // Calendar clients read the inline text/calendar part; others
                // offer the attachment.
                MultiPart::mixed()
                    .multipart(alternative.singlepart(SinglePart::builder().header(inline).body(ics.to_owned())))
                    .singlepart(Attachment::new("invite.ics".into()).body(ics.to_owned(), file))
            }
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(out.subject)
            .message_id(Some(format!("<{}>", out.message_id)))
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-generated".into()))
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Content-Language"), out.language.to_owned()))
            .multipart(body)
            .map_err(|e| MailError::Build(e.to_string()))?;
        match &self.transport {
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    MailError::Permanent(e.to_string())
                } else {
                    MailError::Temporary(e.to_string())
                }
            }),
            Transport::Files(t, dir) => {
                let id = t.send(message).await.map_err(|e| MailError::Temporary(e.to_string()))?;
                tracing::info!(file = %dir.join(format!("{id}.eml")).display(), message_id = %out.message_id,
                    "mail written to file (no SMTP_URL set)");
                Ok(())
            }
        }
    }
}

/// Escape text for inclusion in the HTML part.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
