//! The web app's words in Dutch (the default) and English: one catalogue of
//! `(key, nl, en)` rows. Templates call `c.t("key")`; the page script gets the
//! rows it needs (see [`SCRIPT_PREFIXES`]) as JSON and looks them up by key,
//! so both halves of a page speak the same language. Error codes of the API
//! are translated under `err.<code>`.
//!
//! A unit test checks that every key used in `web/templates` and
//! `web/static/app.js` exists here; an unknown key renders as itself, never
//! as an error.

use pb_domain::Language;

/// Keys the page script may look up.
pub const SCRIPT_PREFIXES: &[&str] = &[
    "js.",
    "err.",
    "reason.",
    "status.",
    "tier.",
    "profession.",
    "kind.",
    "engagement.",
    "weekday.",
    "common.",
    "field.",
    "nav.",
    "practice.repeat_none",
    "hours_status.",
    "secondment_status.",
    "secondments.",
    "party.",
];

/// Translator for one language.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    lang: Language,
}

impl Tr {
    pub fn new(lang: Language) -> Self {
        Tr { lang }
    }

    /// The text for `key`, or the key itself when it is missing.
    pub fn t(&self, key: &str) -> &'static str {
        match MESSAGES.iter().find(|(k, _, _)| *k == key) {
            Some((_, nl, en)) => match self.lang {
                Language::Nl => nl,
                Language::En => en,
            },
            None => {
                tracing::warn!(key, "missing translation");
                MESSAGES.iter().find(|(k, _, _)| *k == "common.missing").map_or("?", |(_, nl, _)| nl)
            }
        }
    }

    /// The script's share of the catalogue as a JSON object.
    pub fn script_messages(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = MESSAGES
            .iter()
            .filter(|(k, _, _)| SCRIPT_PREFIXES.iter().any(|p| k.starts_with(p)))
            .map(|(k, nl, en)| {
                let text = match self.lang {
                    Language::Nl => nl,
                    Language::En => en,
                };
                ((*k).to_owned(), serde_json::Value::from(*text))
            })
            .collect();
        serde_json::Value::Object(map)
    }
}

/// `(key, Dutch, English)`.
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("common.missing", "…", "…"),
    ("nav.skip", "Naar de inhoud", "Skip to content"),
    ("nav.label", "Hoofdmenu", "Main menu"),
    ("nav.login", "Inloggen", "Sign in"),
    ("nav.logout", "Uitloggen", "Sign out"),
    ("nav.home", "Naar mijn overzicht", "Go to my overview"),
    ("nav.calls", "Oproepen", "Calls"),
    ("nav.favourites", "Vaste krachten", "Favourites"),
    ("nav.offers", "Aanbod", "Offers"),
    ("nav.availability", "Beschikbaarheid", "Availability"),
    ("nav.region", "Regio", "Region"),
    ("nav.profile", "Profiel", "Profile"),
    ("common.loading", "Laden…", "Loading…"),
    ("common.open", "Openen", "Open"),
    ("common.save", "Opslaan", "Save"),
    ("common.remove", "Verwijderen", "Remove"),
    ("common.actions", "Acties", "Actions"),
    ("common.yes", "ja", "yes"),
    ("common.no", "nee", "no"),
    ("home.title", "Personeel delen tussen huisartsenpraktijken", "Sharing staff between GP practices"),
    ("home.intro", "Praktijken plaatsen een oproep voor een dienst; waarnemers, POH's en doktersassistenten met beschikbaarheid krijgen hem direct en accepteren met één klik. Coördinatoren van de regio zien de vulgraad en regelen detacheringen.", "Practices post a call for a shift; locums, practice nurses and doctor's assistants who are available get it at once and accept with one click. Regional coordinators see the fill rate and arrange secondments."),
    ("home.demo", "Demo-accounts", "Demo accounts"),
    ("home.demo_password", "Wachtwoord voor alle demo-accounts:", "Password of every demo account:"),
    ("home.role", "Rol", "Role"),
    ("home.what", "Wat je ziet", "What you see"),
    ("login.title", "Inloggen", "Sign in"),
    ("login.submit", "Inloggen", "Sign in"),
    ("login.forgot", "Wachtwoord vergeten?", "Forgot your password?"),
    ("login.missing", "Vul je e-mailadres en wachtwoord in.", "Enter your e-mail address and password."),
    ("invitation.title", "Uitnodiging accepteren", "Accept your invitation"),
    ("invitation.intro", "Kies je naam en een wachtwoord. Heb je al een account? Vul dan je huidige wachtwoord in.", "Choose your name and a password. Already have an account? Enter your current password."),
    ("invitation.submit", "Account aanmaken", "Create account"),
    ("reset.title", "Wachtwoord opnieuw instellen", "Reset your password"),
    ("reset.intro", "Vul je e-mailadres in. Als er een account bij hoort, sturen we een link waarmee je een nieuw wachtwoord kiest.", "Enter your e-mail address. If it belongs to an account, we send a link to choose a new password."),
    ("reset.send", "Link versturen", "Send link"),
    ("reset.save", "Wachtwoord opslaan", "Save password"),
    ("field.email", "E-mailadres", "E-mail address"),
    ("field.password", "Wachtwoord", "Password"),
    ("field.new_password", "Nieuw wachtwoord (minstens 12 tekens)", "New password (at least 12 characters)"),
    ("field.current_password", "Huidig wachtwoord", "Current password"),
    ("field.name", "Naam", "Name"),
    ("field.language", "Taal", "Language"),
    ("field.when", "Wanneer", "When"),
    ("field.date", "Datum", "Date"),
    ("field.start_time", "Van", "From"),
    ("field.end_time", "Tot", "Until"),
    ("field.profession", "Beroep", "Profession"),
    ("field.kind", "Soort dienst", "Kind of shift"),
    ("field.status", "Status", "Status"),
    ("field.slots", "Aantal personen", "People needed"),
    ("field.rate", "Tarief per uur (€)", "Rate per hour (€)"),
    ("field.engagement", "Verband", "Engagement"),
    ("field.urgent", "Spoed: meteen naar iedereen die past", "Urgent: send to everyone who fits at once"),
    ("field.notes", "Toelichting", "Notes"),
    ("field.practice", "Praktijk", "Practice"),
    ("field.reason", "Reden", "Reason"),
    ("field.weekday", "Dag van de week", "Day of the week"),
    ("field.valid_from", "Vanaf", "From"),
    ("field.organisation", "Organisatie", "Organisation"),
    ("field.role", "Rol", "Role"),
    ("field.register", "Register", "Register"),
    ("field.number", "Nummer", "Number"),
    ("field.expires_on", "Geldig tot", "Valid until"),
    ("practice.title", "Oproepen van de praktijk", "Your practice's calls"),
    ("practice.none", "Je beheert geen praktijk.", "You do not manage a practice."),
    ("practice.calls", "Oproepen in één oogopslag", "Calls at a glance"),
    ("practice.post", "Oproep plaatsen", "Post a call"),
    ("practice.repeat", "Herhaal een eerdere oproep", "Repeat a previous call"),
    ("practice.repeat_none", "— nieuwe oproep —", "— new call —"),
    ("practice.post_submit", "Oproep plaatsen", "Post call"),
    ("call.title", "Oproep", "Call"),
    ("call.applicants", "Aanmeldingen", "Applicants"),
    ("call.booked", "Geboekt", "Booked"),
    ("call.candidates", "Kandidaten", "Candidates"),
    ("call.candidates_live", "Nieuwe kandidaten verschijnen vanzelf.", "New candidates appear by themselves."),
    ("call.tier", "Ring", "Tier"),
    ("call.why", "Waarom", "Why"),
    ("call.offered", "Aangeboden", "Offered"),
    ("call.cancel", "Oproep intrekken", "Cancel the call"),
    ("call.cancel_submit", "Oproep intrekken", "Cancel call"),
    ("favourites.title", "Vaste krachten", "Favourites"),
    ("favourites.intro", "Vaste krachten krijgen je oproepen als eersten. Voeg ze toe vanuit de kandidatenlijst van een oproep.", "Favourites get your calls first. Add them from a call's candidate list."),
    ("worker.title", "Mijn aanbod", "My offers"),
    ("worker.now", "Nu beschikbaar", "Available now"),
    ("worker.now_hours", "Voor hoeveel uur?", "For how many hours?"),
    ("worker.now_submit", "Ik ben beschikbaar", "I am available"),
    ("worker.offers", "Oproepen voor jou", "Calls for you"),
    ("worker.offers_live", "Nieuwe oproepen verschijnen vanzelf.", "New calls appear by themselves."),
    ("worker.bookings", "Mijn boekingen", "My bookings"),
    ("availability.title", "Mijn beschikbaarheid", "My availability"),
    ("availability.prev", "Vorige week", "Previous week"),
    ("availability.next", "Volgende week", "Next week"),
    ("availability.once", "Eenmalig beschikbaar", "Available once"),
    ("availability.weekly", "Elke week beschikbaar", "Available every week"),
    ("availability.add", "Toevoegen", "Add"),
    ("availability.all", "Alles wat je hebt opgegeven", "Everything you have entered"),
    ("region.title", "De regio", "The region"),
    ("region.open", "Open oproepen, spoed eerst", "Open calls, urgent first"),
    ("region.charts", "Vulgraad en tijd tot vervulling per maand", "Fill rate and time to fill per month"),
    ("region.fill_chart", "Vulgraad (vervulde plekken van gevraagde plekken)", "Fill rate (filled of requested places)"),
    ("region.ttf_chart", "Tijd tot vervulling (mediaan)", "Time to fill (median)"),
    ("region.csv", "Download als CSV", "Download as CSV"),
    ("region.dba", "Zzp-uren boven de drempel (Wet DBA)", "Freelance hours above the threshold (Wet DBA)"),
    ("js.hours_short", "uur", "h"),
    ("js.minutes_short", "min", "min"),
    ("js.dba_threshold", "Drempel van de regio: {n} uur per zzp'er per praktijk per twaalf maanden.", "The region's threshold: {n} hours per freelancer per practice per twelve months."),
    ("js.above_threshold", "boven de drempel", "above the threshold"),
    ("js.no_dba", "Niemand boven de drempel.", "Nobody above the threshold."),
    ("region.late", "Late annuleringen", "Late cancellations"),
    ("region.agreements", "Deelafspraken", "Sharing agreements"),
    ("region.invite", "Iemand uitnodigen", "Invite someone"),
    ("region.invite_submit", "Uitnodiging versturen", "Send invitation"),
    ("profile.title", "Mijn profiel", "My profile"),
    ("profile.details", "Gegevens", "Details"),
    ("profile.password", "Wachtwoord wijzigen", "Change password"),
    ("profile.password_submit", "Wachtwoord wijzigen", "Change password"),
    ("profile.registrations", "Registraties", "Registrations"),
    ("profile.no_registrations", "Nog geen registraties.", "No registrations yet."),
    ("profile.registration_add", "Registratie toevoegen", "Add registration"),
    ("role.worker", "Zorgprofessional", "Care professional"),
    ("role.practice_manager", "Praktijkmanager", "Practice manager"),
    ("role.coordinator", "Coördinator", "Coordinator"),
    ("error.title", "Dat lukte niet", "That did not work"),
    ("error.forbidden_title", "Geen toegang", "No access"),
    ("error.forbidden", "Deze pagina hoort bij een andere rol dan de jouwe.", "This page belongs to another role than yours."),
    ("error.bad_origin", "Dit verzoek kwam niet van deze website en is geweigerd.", "This request did not come from this website and was refused."),
    ("error.bad_csrf", "Deze pagina was verouderd. Laad haar opnieuw en probeer het nog eens.", "This page was out of date. Reload it and try again."),
    ("error.bad_language", "Kies Nederlands of Engels.", "Choose Dutch or English."),
    ("err.invalid_credentials", "E-mailadres of wachtwoord klopt niet.", "E-mail address or password is wrong."),
    ("err.internal_error", "Er ging iets mis aan onze kant. Probeer het zo nog eens.", "Something went wrong on our side. Try again in a moment."),
    ("err.database_busy", "Het is even te druk. Probeer het zo nog eens.", "It is too busy right now. Try again in a moment."),
    ("err.network", "Geen verbinding met de server. Controleer je internet en probeer het opnieuw.", "No connection to the server. Check your internet and try again."),
    ("err.not_found", "Niet gevonden, of niet zichtbaar voor jou.", "Not found, or not visible to you."),
    ("err.validation_failed", "Controleer de gemarkeerde velden.", "Check the marked fields."),
    ("err.required", "Vul dit veld in.", "Fill in this field."),
    ("err.not_a_number", "Vul een getal in.", "Enter a number."),
    ("err.invalid_json", "Het formulier is niet volledig.", "The form is incomplete."),
    ("err.authentication_required", "Log opnieuw in.", "Sign in again."),
    ("err.session_ended", "Je sessie is verlopen. Log opnieuw in.", "Your session has ended. Sign in again."),
    ("err.csrf_failed", "Deze pagina was verouderd. Laad haar opnieuw.", "This page was out of date. Reload it."),
    ("err.shift_in_past", "De dienst moet in de toekomst beginnen.", "The shift must start in the future."),
    ("err.in_past", "Dit moment ligt in het verleden.", "This moment is in the past."),
    ("err.end_before_start", "Het einde moet na het begin liggen.", "The end must be after the start."),
    ("err.shift_too_long", "Een dienst duurt hoogstens 24 uur.", "A shift lasts at most 24 hours."),
    ("err.nonexistent_local_time", "Deze tijd bestaat niet door de overgang naar zomertijd.", "This time does not exist because of the change to summer time."),
    ("err.out_of_range", "Deze waarde valt buiten het toegestane bereik.", "This value is out of range."),
    ("err.too_long", "Deze tekst is te lang.", "This text is too long."),
    ("err.too_many", "Dat zijn er te veel.", "That is too many."),
    ("err.invalid_name", "Vul een naam in van 1 tot 120 tekens.", "Enter a name of 1 to 120 characters."),
    ("err.invalid_email", "Dit is geen geldig e-mailadres.", "This is not a valid e-mail address."),
    ("err.invalid_reason", "Geef een reden van 1 tot 500 tekens.", "Give a reason of 1 to 500 characters."),
    ("err.invalid_weekday", "Kies een dag van de week.", "Choose a day of the week."),
    ("err.valid_until_before_valid_from", "De einddatum ligt voor de begindatum.", "The end date is before the start date."),
    ("err.password_too_short", "Kies een wachtwoord van minstens 12 tekens.", "Choose a password of at least 12 characters."),
    ("err.password_too_long", "Dit wachtwoord is te lang.", "This password is too long."),
    ("err.password_too_common", "Dit wachtwoord is te makkelijk te raden. Kies een langere zin.", "This password is too easy to guess. Choose a longer phrase."),
    ("err.invitation_not_found", "Deze uitnodiging is niet meer geldig.", "This invitation is no longer valid."),
    ("err.membership_exists", "Je hebt deze rol al.", "You already have this role."),
    ("err.email_taken", "Dit e-mailadres heeft al een account.", "This e-mail address already has an account."),
    ("err.reset_token_invalid", "Deze link is verlopen of al gebruikt. Vraag een nieuwe aan.", "This link has expired or was used already. Ask for a new one."),
    ("err.shift_no_longer_open", "Deze oproep is al vervuld of ingetrokken.", "This call has already been filled or cancelled."),
    ("err.worker_already_booked", "Je bent op dat moment al geboekt.", "You are already booked at that time."),
    ("err.offer_withdrawn", "Dit aanbod is ingetrokken.", "This offer was withdrawn."),
    ("err.conflict", "Dit botst met iets dat al bestaat.", "This conflicts with something that already exists."),
    ("err.forbidden", "Dat mag je niet doen.", "You may not do this."),
    ("err.coordinator_required", "Alleen een coördinator van deze regio mag dit.", "Only a coordinator of this region may do this."),
    ("err.staff_required", "Alleen praktijk- of regiomedewerkers mogen dit.", "Only practice or regional staff may do this."),
    ("err.role_not_invitable", "Deze rol kun je niet uitnodigen.", "You cannot invite this role."),
    ("err.invalid_registration_number", "Dit registratienummer klopt niet.", "This registration number is not valid."),
    ("err.invalid_big_number", "Een BIG-nummer heeft 11 cijfers.", "A BIG number has 11 digits."),
    ("err.registration_exists", "Deze registratie staat er al.", "This registration is already there."),
    ("err.idempotency_key_in_use", "Dit verzoek wordt al verwerkt. Wacht even.", "This request is already being processed. Wait a moment."),
    ("js.accept", "Accepteren", "Accept"),
    ("js.decline", "Afslaan", "Decline"),
    ("js.add_favourite", "Vaste kracht", "Favourite"),
    ("js.applied", "Je aanmelding is verstuurd. De praktijk bevestigt.", "Your application has been sent. The practice confirms."),
    ("js.availability_saved", "Beschikbaarheid opgeslagen.", "Availability saved."),
    ("js.available_now", "Je bent beschikbaar. Nieuwe oproepen voor jou: {n}.", "You are available. New calls for you: {n}."),
    ("js.booked", "Geboekt! De dienst staat bij je boekingen.", "Booked! The shift is in your bookings."),
    ("js.booking_cancelled", "Een boeking is geannuleerd.", "A booking was cancelled."),
    ("js.call_cancelled", "De oproep is ingetrokken.", "The call has been cancelled."),
    ("js.cancel_booking", "Annuleren", "Cancel"),
    ("js.cancelled", "De boeking is geannuleerd.", "The booking has been cancelled."),
    ("js.cancelled_late", "De boeking is geannuleerd, binnen de opzegtermijn (late annulering).", "The booking has been cancelled, within the notice period (late cancellation)."),
    ("js.cancelled_by.worker", "door de zorgprofessional", "by the care professional"),
    ("js.cancelled_by.practice", "door de praktijk", "by the practice"),
    ("js.confirm", "Bevestigen", "Confirm"),
    ("js.confirmed", "Bevestigd en geboekt.", "Confirmed and booked."),
    ("js.count_open", "{n} open", "{n} open"),
    ("js.count_urgent", "{n} met spoed", "{n} urgent"),
    ("js.count_filled", "{n} vervuld", "{n} filled"),
    ("js.declined", "Afgeslagen.", "Declined."),
    ("js.favourite_added", "{name} is nu een vaste kracht.", "{name} is now a favourite."),
    ("js.favourite_removed", "Verwijderd uit je vaste krachten.", "Removed from your favourites."),
    ("js.invitation_sent", "Uitnodiging verstuurd naar {email}.", "Invitation sent to {email}."),
    ("js.invite", "Uitnodigen", "Invite"),
    ("js.invited", "{name} is persoonlijk uitgenodigd.", "{name} has been invited in person."),
    ("js.new_offer", "Er is een nieuwe oproep voor je.", "There is a new call for you."),
    ("js.no_agreements", "Geen deelafspraken.", "No sharing agreements."),
    ("js.no_applicants", "Nog geen aanmeldingen.", "No applicants yet."),
    ("js.no_availability", "Je hebt nog geen beschikbaarheid opgegeven.", "You have not entered any availability yet."),
    ("js.no_bookings", "Geen boekingen.", "No bookings."),
    ("js.no_calls", "Geen oproepen.", "No calls."),
    ("js.no_candidates", "Nog niemand die past. Wie beschikbaar komt en past, verschijnt hier.", "Nobody fits yet. Whoever becomes available and fits appears here."),
    ("js.no_favourites", "Nog geen vaste krachten.", "No favourites yet."),
    ("js.no_late", "Geen late annuleringen.", "No late cancellations."),
    ("js.no_offers", "Op dit moment geen oproepen voor jou.", "No calls for you right now."),
    ("js.not_available", "niet beschikbaar", "not available"),
    ("js.offer_withdrawn.filled", "Een oproep is al door iemand anders aangenomen en ingetrokken.", "A call was taken by someone else and withdrawn."),
    ("js.offer_withdrawn.cancelled", "Een oproep is door de praktijk ingetrokken.", "A call was cancelled by the practice."),
    ("js.offer_withdrawn.changed", "Een oproep is gewijzigd en opnieuw uitgezet.", "A call was changed and sent out again."),
    ("js.offer_withdrawn.expired", "Een oproep is verlopen.", "A call has expired."),
    ("js.offer_withdrawn.no_longer_fits", "Een oproep past niet meer bij je beschikbaarheid.", "A call no longer fits your availability."),
    ("js.offer_withdrawn.other", "Een oproep is ingetrokken.", "A call was withdrawn."),
    ("js.partner", "partnerregio", "partner region"),
    ("js.per_hour", "per uur", "per hour"),
    ("js.released_tier", "Uitgezet tot ring {n}", "Released to tier {n}"),
    ("js.removed", "Verwijderd.", "Removed."),
    ("js.reset_done", "Je wachtwoord is gewijzigd. Log in met je nieuwe wachtwoord.", "Your password has been changed. Sign in with your new password."),
    ("js.reset_sent", "Als dit adres bij een account hoort, is er een e-mail met een link onderweg. De link is een uur geldig.", "If this address belongs to an account, an e-mail with a link is on its way. The link is valid for one hour."),
    ("js.revoked", "ingetrokken", "revoked"),
    ("js.someone", "iemand", "someone"),
    ("js.stat_fill_rate", "vulgraad (vervuld van vervuld + verlopen)", "fill rate (filled of filled + expired)"),
    ("js.stat_open", "open oproepen", "open calls"),
    ("js.stat_urgent", "met spoed", "urgent"),
    ("js.urgent", "spoed", "urgent"),
    ("js.week_of", "Week van {date}", "Week of {date}"),
    ("status.draft", "concept", "draft"),
    ("status.open", "open", "open"),
    ("status.filled", "vervuld", "filled"),
    ("status.cancelled", "ingetrokken", "cancelled"),
    ("status.expired", "verlopen", "expired"),
    ("status.confirmed", "bevestigd", "confirmed"),
    ("tier.0", "nog niet uitgezet", "not released yet"),
    ("tier.1", "1 · vaste krachten en HAGRO", "1 · favourites and HAGRO"),
    ("tier.2", "2 · hele regio", "2 · whole region"),
    ("tier.3", "3 · partnerregio's", "3 · partner regions"),
    ("reason.favourite", "vaste kracht", "favourite"),
    ("reason.worked_here_before", "werkte hier eerder", "worked here before"),
    ("reason.distance", "{km} km", "{km} km"),
    ("reason.remote", "op afstand", "remote"),
    ("reason.all_skills", "alle gevraagde vaardigheden", "all skills asked for"),
    ("reason.his_experience", "kent het HIS", "knows the GP system"),
    ("reason.shared_by_agreement", "via deelafspraak", "through a sharing agreement"),
    ("profession.gp", "Huisarts", "GP"),
    ("profession.nurse_practitioner", "Verpleegkundig specialist", "Nurse practitioner"),
    ("profession.physician_assistant", "Physician assistant", "Physician assistant"),
    ("profession.poh_s", "POH somatiek", "Practice nurse (somatic)"),
    ("profession.poh_ggz", "POH GGZ", "Practice nurse (mental health)"),
    ("profession.assistant", "Doktersassistent", "Doctor's assistant"),
    ("profession.triage_assistant", "Triagist", "Triage assistant"),
    ("profession.practice_manager", "Praktijkmanager", "Practice manager"),
    ("kind.day_cover", "Dagwaarneming", "Day cover"),
    ("kind.ooh_consult", "ANW consulten", "Out-of-hours consults"),
    ("kind.ooh_visit", "ANW visites", "Out-of-hours home visits"),
    ("kind.ooh_backup", "ANW achterwacht", "Out-of-hours backup"),
    ("kind.ooh_coordination", "ANW regie", "Out-of-hours coordination"),
    ("kind.remote", "Op afstand", "Remote"),
    ("engagement.freelance", "Zzp", "Freelance"),
    ("engagement.secondment", "Detachering", "Secondment"),
    ("engagement.temporary_employment", "Tijdelijk dienstverband", "Temporary employment"),
    ("engagement.exchange", "Uitwisseling", "Exchange"),
    ("weekday.1", "maandag", "Monday"),
    ("weekday.2", "dinsdag", "Tuesday"),
    ("weekday.3", "woensdag", "Wednesday"),
    ("weekday.4", "donderdag", "Thursday"),
    ("weekday.5", "vrijdag", "Friday"),
    ("weekday.6", "zaterdag", "Saturday"),
    ("weekday.7", "zondag", "Sunday"),
    ("register.big", "BIG-register", "BIG register"),
    ("register.knmg_gp", "KNMG huisartsenregister", "KNMG GP register"),
    ("register.kwaliteitsregister_poh_ggz", "Kwaliteitsregister POH-GGZ", "POH-GGZ quality register"),
    ("register.nvvpo", "NVvPO", "NVvPO"),
    ("register.kabiz", "KABIZ", "KABIZ"),
    ("register.nvda", "NVDA", "NVDA"),
    ("regstatus.pending", "wordt gecontroleerd", "being checked"),
    ("regstatus.verified", "gecontroleerd", "verified"),
    ("regstatus.suspended", "geschorst", "suspended"),
    ("regstatus.expired", "verlopen", "expired"),
    ("regstatus.rejected", "afgewezen", "rejected"),
    ("nav.staff", "Eigen personeel", "Own staff"),
    ("region.agreement_new", "Personeel delen met een partnerregio", "Share staff with a partner region"),
    ("region.agreement_from", "Wij delen (onze regio)", "We share (our region)"),
    ("region.agreement_to", "Met partnerregio", "With partner region"),
    ("region.agreement_professions", "Welke beroepen", "Which professions"),
    ("region.agreement_submit", "Deelafspraak vastleggen", "Record the agreement"),
    ("field.valid_until", "Tot en met", "Until"),
    ("js.until", "t/m", "until"),
    ("js.revoke", "Intrekken", "Revoke"),
    ("js.agreement_saved", "De deelafspraak is vastgelegd.", "The sharing agreement has been recorded."),
    ("js.agreement_revoked", "De deelafspraak is ingetrokken.", "The sharing agreement has been revoked."),
    ("region.available_today", "Vandaag beschikbaar", "Available today"),
    ("region.available_today_intro", "Wie de regio vandaag nog kan inzetten, met de vrije uren tot middernacht (beschikbaarheid min boekingen).", "Who the region can still deploy today, with their free hours until midnight (availability minus bookings)."),
    ("js.no_available_today", "Vandaag is niemand meer beschikbaar.", "Nobody is available any more today."),
    ("nav.hours", "Uren", "Hours"),
    ("nav.hours_approve", "Uren goedkeuren", "Approve hours"),
    ("nav.secondments", "Detacheringen", "Secondments"),
    ("common.next", "Volgende", "Next"),
    ("common.back", "Terug", "Back"),
    ("field.person", "Persoon", "Person"),
    ("field.works", "Werkt", "Works"),
    ("field.break_minutes", "Pauze (minuten)", "Break (minutes)"),
    ("staff.title", "Eigen personeel aanbieden", "Offer your own staff"),
    ("staff.intro", "Heeft iemand van je praktijk vrije uren? Zet ze hier open: andere praktijken met een passende oproep krijgen haar of hem meteen aangeboden.", "Does someone at your practice have free hours? Open them here: other practices with a matching call get them offered at once."),
    ("hours.all", "Alle", "All"),
    ("hours.submit_title", "Mijn uren", "My hours"),
    ("hours.submit_intro", "Geef na elke dienst de gewerkte uren door. Wijken ze af van de boeking, zeg dan waarom.", "After each shift, submit the hours you worked. If they differ from the booking, say why."),
    ("hours.approve_title", "Uren goedkeuren", "Approve hours"),
    ("hours.approve_intro", "Keur de doorgegeven uren goed, of pas ze aan met een toelichting. Goedgekeurde uren gaan naar de export voor salaris en facturatie.", "Approve the submitted hours, or amend them with a note. Approved hours go into the export for payroll and invoicing."),
    ("hours_status.not_submitted", "nog door te geven", "to submit"),
    ("hours_status.submitted", "doorgegeven", "submitted"),
    ("hours_status.approved", "goedgekeurd", "approved"),
    ("hours_status.amended", "aangepast", "amended"),
    ("secondments.title", "Detacheringen", "Secondments"),
    ("secondments.intro", "Een detachering leent iemand voor vaste dagen uit aan een andere praktijk. De uitlenende partij, de ontvangende praktijk en de persoon zelf keuren goed; daarna staan alle werkdagen als boekingen vast.", "A secondment lends someone to another practice on fixed days. The lending party, the borrowing practice and the person approve; then every working day is booked."),
    ("secondments.list", "Lopende en voorgestelde detacheringen", "Current and proposed secondments"),
    ("secondments.arrange", "Een detachering regelen", "Arrange a secondment"),
    ("secondments.steps", "Stappen", "Steps"),
    ("secondments.step_person", "Wie", "Who"),
    ("secondments.step_practice", "Waar", "Where"),
    ("secondments.step_schedule", "Wanneer", "When"),
    ("secondments.step_review", "Controleren en voorstellen", "Review and propose"),
    ("secondments.borrowing_practice", "Ontvangende praktijk", "Borrowing practice"),
    ("secondments.rate", "Doorbelasting per uur (€)", "Recharge per hour (€)"),
    ("secondments.first_day", "Eerste dag", "First day"),
    ("secondments.last_day", "Laatste dag", "Last day"),
    ("secondments.schedule_help", "Vink de vaste werkdagen aan met hun tijden. Een eindtijd voor de begintijd loopt door tot de volgende dag.", "Tick the fixed working days with their times. An end before the start runs into the next day."),
    ("secondments.propose", "Detachering voorstellen", "Propose secondment"),
    ("secondment_status.proposed", "voorgesteld", "proposed"),
    ("secondment_status.active", "actief", "active"),
    ("secondment_status.declined", "afgewezen", "declined"),
    ("secondment_status.ended", "beëindigd", "ended"),
    ("party.lender", "uitlener", "lender"),
    ("party.borrower", "ontvangende praktijk", "borrowing practice"),
    ("party.person", "de persoon zelf", "the person"),
    ("profile.notifications", "Meldingen", "Notifications"),
    ("profile.notifications_intro", "Kies per soort bericht: meteen een e-mail, één keer per dag in een overzicht, of niet. Oproepen en boekingen zie je in de app altijd direct.", "Choose per kind of message: an e-mail at once, once a day in a digest, or not at all. Calls and bookings always show in the app at once."),
    ("profile.notify_kind", "Bericht", "Message"),
    ("profile.notify_mode", "Hoe", "How"),
    ("profile.quiet_on", "Stille uren: geen e-mail tussen", "Quiet hours: no e-mail between"),
    ("profile.digest_hour", "Dagelijks overzicht om", "Daily digest at"),
    ("profile.calendar", "Agenda-koppeling", "Calendar feed"),
    ("profile.calendar_intro", "Zet je bevestigde diensten in je eigen agenda (Google, Outlook, Apple) met een geheime link. Wie de link heeft, ziet je diensten: deel hem niet.", "Put your confirmed shifts in your own calendar (Google, Outlook, Apple) with a secret link. Whoever has the link sees your shifts: do not share it."),
    ("profile.calendar_url", "Je agenda-link", "Your calendar link"),
    ("profile.calendar_once", "Kopieer de link nu: we tonen hem maar één keer.", "Copy the link now: it is shown only once."),
    ("profile.calendar_make", "Link maken", "Make link"),
    ("profile.calendar_revoke", "Link intrekken", "Revoke link"),
    ("notify.new_call", "Nieuwe oproep die bij je past", "A new call that fits you"),
    ("notify.invitation", "Persoonlijke uitnodiging voor een dienst", "A personal invitation to a shift"),
    ("notify.booking_confirmed", "Boeking bevestigd", "Booking confirmed"),
    ("notify.booking_cancelled", "Boeking geannuleerd", "Booking cancelled"),
    ("notify.call_changed", "Oproep gewijzigd of ingetrokken", "Call changed or cancelled"),
    ("notify.secondment_proposed", "Detachering voorgesteld", "Secondment proposed"),
    ("notify.hours_to_submit", "Uren doorgeven", "Hours to submit"),
    ("notify.first_candidates", "Eerste kandidaten voor je oproep", "First candidates for your call"),
    ("notify.hours_to_approve", "Uren goed te keuren", "Hours to approve"),
    ("notify.call_unfilled", "Oproep nog niet vervuld", "Call still unfilled"),
    ("notify.secondment_awaiting_approval", "Detachering wacht op goedkeuring", "Secondment awaiting approval"),
    ("notify.daily_summary", "Dagelijks overzicht", "Daily summary"),
    ("mode.instant", "meteen", "at once"),
    ("mode.digest", "in het dagoverzicht", "in the digest"),
    ("mode.off", "niet", "never"),
    ("js.no_staff", "Deze praktijk heeft geen eigen personeel in Personeelsbank.", "This practice has no own staff in Personeelsbank."),
    ("js.no_staff_hours", "Geen vrije uren opengezet.", "No free hours opened."),
    ("js.offer_hours", "Uren aanbieden", "Offer hours"),
    ("js.hours_offered", "Vrije uren van {name} aangeboden. Passende oproepen: {n}.", "Free hours of {name} offered. Matching calls: {n}."),
    ("js.no_hours", "Geen diensten in deze selectie.", "No shifts in this selection."),
    ("js.break_minutes", "{n} min pauze", "{n} min break"),
    ("js.submitted", "Doorgegeven", "Submitted"),
    ("js.counts", "Telt", "Counts"),
    ("js.reason_if_different", "Reden (als het afwijkt)", "Reason (if different)"),
    ("js.submit_hours", "Uren doorgeven", "Submit hours"),
    ("js.resubmit_hours", "Opnieuw doorgeven", "Submit again"),
    ("js.hours_submitted", "Je uren zijn doorgegeven.", "Your hours have been submitted."),
    ("js.approve", "Goedkeuren", "Approve"),
    ("js.hours_approved", "Uren goedgekeurd.", "Hours approved."),
    ("js.amend_note", "Toelichting bij aanpassing", "Note with the amendment"),
    ("js.amend", "Aanpassen en goedkeuren", "Amend and approve"),
    ("js.amend_open", "Uren aanpassen…", "Amend the hours…"),
    ("js.hours_amended", "Uren aangepast en goedgekeurd.", "Hours amended and approved."),
    ("js.no_secondments", "Geen detacheringen.", "No secondments."),
    ("js.extension_to", "verlenging tot {date} voorgesteld", "extension to {date} proposed"),
    ("js.lender", "Uitlener", "Lender"),
    ("js.rho_pool", "pool van de regio", "the region's pool"),
    ("js.occurrences", "{n} werkdagen, {booked} geboekt, {hours} uur", "{n} working days, {booked} booked, {hours} hours"),
    ("js.awaiting", "wacht op: {who}", "awaiting: {who}"),
    ("js.secondment_approved", "Goedgekeurd.", "Approved."),
    ("js.secondment_declined", "Afgewezen.", "Declined."),
    ("js.secondment_proposed", "De detachering is voorgesteld. De betrokkenen krijgen bericht om goed te keuren.", "The secondment has been proposed. Those involved are asked to approve."),
    ("js.choose_person", "— kies iemand in loondienst —", "— choose an employed person —"),
    ("js.choose_practice", "— kies een praktijk —", "— choose a practice —"),
    ("js.rate_note", "Van berichten ter informatie sturen we hoogstens {n} per uur meteen; de rest komt in het dagoverzicht.", "Of informational messages we send at most {n} per hour at once; the rest goes into the digest."),
    ("js.preferences_saved", "Je meldingen zijn opgeslagen.", "Your notification settings have been saved."),
    ("js.feed_none", "Je hebt nog geen agenda-link.", "You have no calendar link yet."),
    ("js.feed_active", "Je agenda-link werkt (gemaakt op {date}).", "Your calendar link works (made on {date})."),
    ("js.feed_make", "Link maken", "Make link"),
    ("js.feed_new", "Nieuwe link maken (de oude stopt)", "Make a new link (the old one stops)"),
    ("js.feed_revoked", "De agenda-link is ingetrokken.", "The calendar link has been revoked."),
    ("err.same_organisation", "Kies een andere regio dan je eigen.", "Choose another region than your own."),
    ("err.before_valid_from", "De einddatum ligt voor de begindatum.", "The end date lies before the start date."),
    ("err.unknown_organisation", "Deze regio bestaat niet.", "This region does not exist."),
    ("err.already_revoked", "Deze afspraak was al ingetrokken.", "This agreement had already been revoked."),
    ("err.note_required", "Geef een toelichting bij de aanpassing.", "Give a note with the amendment."),
    ("err.empty_schedule", "Kies minstens één werkdag.", "Choose at least one working day."),
    ("err.starts_too_soon", "De eerste dag moet op zijn vroegst morgen zijn.", "The first day must be tomorrow at the earliest."),
    ("err.same_practice", "De ontvangende praktijk is de eigen praktijk van deze persoon.", "The borrowing practice is this person's own practice."),
    ("err.not_employed", "Alleen iemand in loondienst van een praktijk of de regio kan gedetacheerd worden.", "Only someone employed by a practice or the region can be seconded."),
    ("err.secondment_clashes", "Deze werkdagen botsen met diensten die al geboekt zijn:", "These working days clash with shifts already booked:"),
    ("err.hours_already_decided", "Deze uren zijn al goedgekeurd.", "These hours have already been approved."),
    ("err.shift_not_started", "Uren doorgeven kan pas als de dienst begonnen is.", "Hours can be submitted once the shift has started."),
    ("err.reason_required", "Geef een reden: de tijden wijken af van de boeking.", "Give a reason: the times differ from the booking."),
    ("err.break_out_of_range", "De pauze moet korter zijn dan de gewerkte tijd.", "The break must be shorter than the time worked."),
    ("err.far_from_booking", "Deze tijden liggen te ver van de geboekte dienst.", "These times are too far from the booked shift."),
    ("err.not_your_employee", "Je kunt alleen uren aanbieden van je eigen personeel.", "You can only offer hours of your own staff."),
    ("err.practice_staff_required", "Alleen de praktijk of haar regiocoördinator mag dit.", "Only the practice or its regional coordinator may do this."),
    ("err.not_a_party", "Je bent geen partij bij deze detachering.", "You are not a party to this secondment."),
    ("err.period_too_long", "Een detachering duurt hoogstens een jaar.", "A secondment lasts at most one year."),
    ("err.no_occurrences", "In deze periode valt geen enkele werkdag.", "There is no working day in this period."),
    ("err.profession_not_held", "Deze persoon heeft dat beroep niet.", "This person does not have that profession."),
    ("err.invalid_time", "Vul een tijd in als 08:30.", "Enter a time like 08:30."),
    ("err.last_day_in_past", "De laatste dag ligt in het verleden.", "The last day is in the past."),
    ("err.agreement_does_not_cover_period", "De deelafspraak geldt niet voor deze hele periode.", "The sharing agreement does not cover this whole period."),
    ("err.no_sharing_agreement", "Er is geen deelafspraak met de regio van deze persoon.", "There is no sharing agreement with this person's region."),
    ("err.schedule_overlap", "Twee werktijden in het rooster overlappen.", "Two working times in the schedule overlap."),
    ("err.too_many_entries", "Dat zijn te veel werktijden.", "Those are too many working times."),
    ("err.empty_window", "Begin en einde mogen niet gelijk zijn.", "Start and end must differ."),
    ("err.in_future", "Dit moment ligt in de toekomst.", "This moment is in the future."),
    ("err.booking_not_confirmed", "Deze boeking is niet (meer) bevestigd.", "This booking is not (or no longer) confirmed."),
    ("err.nothing_to_approve", "Er wacht niets op jouw goedkeuring.", "Nothing awaits your approval."),
    ("err.already_approved", "Je hebt dit al goedgekeurd.", "You have already approved this."),
    ("err.not_later", "De nieuwe laatste dag moet later zijn.", "The new last day must be later."),
    ("err.insufficient_rest", "Dan is er te weinig rust tussen twee diensten.", "That leaves too little rest between two shifts."),
    ("err.hours_not_submitted", "Er zijn nog geen uren doorgegeven.", "No hours have been submitted yet."),
    ("err.not_your_booking", "Dit is niet jouw boeking.", "This is not your booking."),
    ("err.secondment_not_active", "Deze detachering loopt niet.", "This secondment is not active."),
    ("err.ends_before_start", "Het einde moet na het begin liggen.", "The end must be after the start."),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn root() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    /// Keys written literally as `t("...")` / `c.t("...")` in a file.
    fn keys_in(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (i, _) in text.match_indices("t(\"") {
            let rest = &text[i + 3..];
            if let Some(end) = rest.find('"') {
                let key = &rest[..end];
                if !key.ends_with('.') && key.contains('.') {
                    out.push(key.to_owned());
                }
            }
        }
        out
    }

    #[test]
    fn keys_are_unique_and_both_languages_are_filled() {
        let mut seen = HashSet::new();
        for (k, nl, en) in MESSAGES {
            assert!(seen.insert(*k), "duplicate key {k}");
            assert!(!nl.is_empty() && !en.is_empty(), "empty text for {k}");
        }
    }

    #[test]
    fn every_key_used_by_templates_and_script_exists() {
        let known: HashSet<&str> = MESSAGES.iter().map(|(k, _, _)| *k).collect();
        let mut files = vec![root().join("web/static/app.js")];
        for entry in std::fs::read_dir(root().join("web/templates")).unwrap() {
            files.push(entry.unwrap().path());
        }
        let mut missing = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for key in keys_in(&text) {
                if !known.contains(key.as_str()) {
                    missing.push(format!("{}: {key}", file.display()));
                }
            }
        }
        assert!(missing.is_empty(), "missing translations:\n{}", missing.join("\n"));
    }

    #[test]
    fn every_code_list_is_translated() {
        let known: HashSet<&str> = MESSAGES.iter().map(|(k, _, _)| *k).collect();
        let codes = pb_domain::roles::Profession::ALL
            .iter()
            .map(|p| format!("profession.{}", p.code()))
            .chain(pb_domain::matching::ShiftKind::ALL.iter().map(|k| format!("kind.{}", k.code())))
            .chain(pb_domain::roles::EngagementType::ALL.iter().map(|e| format!("engagement.{}", e.code())))
            .chain(pb_domain::roles::Register::ALL.iter().map(|r| format!("register.{}", r.code())))
            .chain(pb_domain::roles::RegistrationStatus::ALL.iter().map(|r| format!("regstatus.{}", r.code())))
            .chain((1..=7).map(|d| format!("weekday.{d}")))
            .chain((0..=3).map(|d| format!("tier.{d}")))
            .chain(crate::notify::PREFERENCE_KINDS.iter().map(|(k, _)| format!("notify.{k}")))
            .chain(["instant", "digest", "off"].iter().map(|m| format!("mode.{m}")))
            .chain(["not_submitted", "submitted", "approved", "amended"].iter().map(|s| format!("hours_status.{s}")))
            .chain(["proposed", "active", "declined", "ended"].iter().map(|s| format!("secondment_status.{s}")))
            .chain(["lender", "borrower", "person"].iter().map(|p| format!("party.{p}")));
        for key in codes {
            assert!(known.contains(key.as_str()), "missing translation {key}");
        }
    }

    #[test]
    fn dutch_is_the_default_and_english_differs() {
        assert_eq!(Tr::new(Language::default()).t("nav.login"), "Inloggen");
        assert_eq!(Tr::new(Language::En).t("nav.login"), "Sign in");
        assert_eq!(Tr::new(Language::En).t("no.such.key"), "…");
        let script = Tr::new(Language::Nl).script_messages();
        assert_eq!(script["err.invalid_credentials"], "E-mailadres of wachtwoord klopt niet.");
        assert!(script.get("home.title").is_none());
    }
}
