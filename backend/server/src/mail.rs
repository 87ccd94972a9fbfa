//! Sending mail through lettre: SMTP (STARTTLS, TLS or a local relay, from
//! `SMTP_URL`) or, when no SMTP server is configured, `.eml` files in
//! `<data dir>/mail` so a demo shows what would have been sent.
//!
//! This is direct delivery after commit; the transactional outbox with
//! retries and dead letters replaces it for event mail (see docs/decisions).

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
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
    #[error("mail could not be built: {0}")]
    Build(String),
    #[error("mail could not be sent: {0}")]
    Send(String),
}

pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
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

    pub async fn send(&self, mail: Mail) -> Result<(), MailError> {
        let to: Mailbox = mail.to.parse().map_err(|e| MailError::Build(format!("recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html)),
            )
            .map_err(|e| MailError::Build(e.to_string()))?;
        match &self.transport {
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| MailError::Send(e.to_string())),
            Transport::Files(t, dir) => {
                let id = t.send(message).await.map_err(|e| MailError::Send(e.to_string()))?;
                tracing::info!(file = %dir.join(format!("{id}.eml")).display(), "mail written to file (no SMTP_URL set)");
                Ok(())
            }
        }
    }
}

/// Escape text for inclusion in the HTML part.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
