import Foundation

/// The console's own words, in English and French; the language comes from a cookie set
/// by the switch, else from `Accept-Language`.
public enum ConsoleLanguage: String, Sendable, CaseIterable {
    case en, fr

    public var other: ConsoleLanguage { self == .en ? .fr : .en }
    /// The language's own name, for the switch.
    public var name: String { self == .en ? "English" : "Français" }

    /// The first of `fr`, `en` in an `Accept-Language` header, by quality; English when
    /// neither is there.
    public static func from(acceptLanguage header: String?) -> ConsoleLanguage {
        guard let header else { return .en }
        var best: (ConsoleLanguage, Double)?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first?.lowercased() else { continue }
            let primary = String(tag.split(separator: "-").first ?? "")
            guard let language = ConsoleLanguage(rawValue: primary) else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 0
            }
            if quality > 0, best == nil || quality > best!.1 { best = (language, quality) }
        }
        return best?.0 ?? .en
    }

    public func text(_ key: String) -> String {
        guard let pair = ConsoleText.table[key] else { return key }
        return self == .en ? pair.0 : pair.1
    }

    /// Every phrase, for the templates (`{{t.key}}`).
    public var phrases: [String: String] { ConsoleText.table.mapValues { self == .en ? $0.0 : $0.1 } }
}

enum ConsoleText {
    static let table: [String: (String, String)] = [
        "skip": ("Skip to content", "Aller au contenu"),
        "menu": ("Main menu", "Menu principal"),
        "overview": ("Overview", "Vue d’ensemble"),
        "payers": ("Payers", "Payeurs"),
        "jobs": ("Jobs", "Envois"),
        "live_log": ("Live delivery log", "Journal des envois en direct"),
        "templates": ("Templates", "Modèles"),
        "audit": ("Audit trail", "Journal d’audit"),
        "logout": ("Sign out", "Se déconnecter"),
        "login": ("Sign in", "Connexion"),
        "user_name": ("User name", "Nom d’utilisateur"),
        "password": ("Password", "Mot de passe"),
        "login_failed": ("Wrong user name or password.", "Nom d’utilisateur ou mot de passe incorrect."),
        "login_throttled": (
            "Too many failed attempts: try again in a few minutes.",
            "Trop d’essais manqués : réessayez dans quelques minutes."
        ),
        "login_busy": (
            "Several sign-ins are being checked: try again in a second.",
            "Plusieurs connexions sont en cours de vérification : réessayez dans une seconde."
        ),
        "no_users": (
            "No console user is configured (console.users_file): see docs/CONSOLE.md.",
            "Aucun utilisateur de la console n’est configuré (console.users_file) : voir docs/CONSOLE.md."
        ),
        "today": ("Today (UTC)", "Aujourd’hui (UTC)"),
        "last30": ("Last 30 days", "30 derniers jours"),
        "messages": ("Messages", "Messages"),
        "computed_at": (
            "Messages, amounts and the effect of the steps are counted at most once a minute; these were counted at",
            "Messages, montants et effet des étapes sont comptés au plus une fois par minute ; ceux-ci l’ont été le"
        ),
        "channel": ("Channel", "Canal"),
        "total": ("Total", "Total"),
        "needs_person": ("Needs a person", "À traiter"),
        "queue": ("Queue", "File d’attente"),
        "due_now": ("Due now", "À envoyer maintenant"),
        "running": ("Being sent", "En cours d’envoi"),
        "scheduled": ("Scheduled", "Programmés"),
        "next_run": ("Next scheduled", "Prochain programmé"),
        "oldest_due": ("Oldest due job waiting for", "Le plus ancien envoi dû attend depuis"),
        "seconds": ("seconds", "secondes"),
        "outstanding": ("Outstanding amounts by age", "Encours par ancienneté"),
        "band0": ("Not yet due", "Non échu"),
        "band1": ("1–30 days late", "1 à 30 jours de retard"),
        "band2": ("31–60 days late", "31 à 60 jours de retard"),
        "band3": ("61–90 days late", "61 à 90 jours de retard"),
        "band4": ("Over 90 days late", "Plus de 90 jours de retard"),
        "invoices_count": ("invoices", "factures"),
        "no_outstanding": ("No open balance.", "Aucun solde ouvert."),
        "effectiveness": ("Effect of each step (last 90 days)", "Effet de chaque étape (90 derniers jours)"),
        "paid30_chart": (
            "Invoices paid in full within 30 days of the step", "Factures soldées dans les 30 jours suivant l’étape"
        ),
        "scenario": ("Scenario", "Scénario"),
        "step": ("Step", "Étape"),
        "sent": ("Sent", "Envoyés"),
        "delivered": ("Delivered", "Remis"),
        "undelivered": ("Undelivered", "Non remis"),
        "complaints": ("Complaints", "Plaintes"),
        "invoices_reached": ("Invoices", "Factures"),
        "paid7": ("Paid ≤ 7 days", "Soldées ≤ 7 jours"),
        "paid30": ("Paid ≤ 30 days", "Soldées ≤ 30 jours"),
        "recovered": ("Recovered", "Encaissé"),
        "no_steps": ("No scenario step sent in this period.", "Aucune étape envoyée sur la période."),
        "suppressed": ("Suppressed contact points", "Coordonnées suspendues"),
        "unmatched": ("Payments to review", "Paiements à examiner"),
        "search": ("Search", "Rechercher"),
        "search_label": (
            "Reference, name, e-mail, case or invoice number", "Référence, nom, e-mail, dossier ou numéro de facture"
        ),
        "no_results": ("Nothing found.", "Aucun résultat."),
        "reference": ("Reference", "Référence"),
        "name": ("Name", "Nom"),
        "email": ("E-mail", "E-mail"),
        "phone": ("Phone", "Téléphone"),
        "address": ("Postal address", "Adresse postale"),
        "locale": ("Language", "Langue"),
        "timezone": ("Time zone", "Fuseau horaire"),
        "segment": ("Segment", "Segment"),
        "channels": ("Channels", "Canaux"),
        "profile": ("Profile", "Fiche"),
        "profile_unusable": ("The stored profile cannot be used:", "La fiche enregistrée est inutilisable :"),
        "invoices": ("Invoices", "Factures"),
        "number": ("Number", "Numéro"),
        "amount": ("Amount", "Montant"),
        "balance": ("Balance", "Solde"),
        "due_date": ("Due date", "Échéance"),
        "status": ("Status", "État"),
        "hold": ("Hold", "Suspension"),
        "none": ("None", "Aucune"),
        "cases": ("Cases", "Dossiers"),
        "timeline": ("Messages and their trace", "Messages et leur traçabilité"),
        "history": ("Printable history of the case", "Historique imprimable du dossier"),
        "history_note": (
            "Every message and every trace event recorded for this payer, as stored.",
            "Chaque message et chaque événement enregistrés pour ce payeur, tels que conservés."
        ),
        "printed_at": ("Printed at", "Imprimé le"),
        "job": ("Job", "Envoi"),
        "template": ("Template", "Modèle"),
        "state": ("State", "État"),
        "attempt": ("Attempt", "Tentative"),
        "created": ("Created", "Créé"),
        "run_at": ("Due at", "Prévu le"),
        "case": ("Case", "Dossier"),
        "payer": ("Payer", "Payeur"),
        "event": ("Event", "Événement"),
        "at": ("At", "Date"),
        "detail": ("Detail", "Détail"),
        "last_error": ("Last error", "Dernière erreur"),
        "what_was_sent": ("What was sent", "Ce qui a été envoyé"),
        "what_was_sent_note": (
            "The exact bytes handed to the provider, kept in the archive; their SHA-256 is in the trace.",
            "Les octets exacts remis au prestataire, conservés dans l’archive ; leur SHA-256 figure dans la trace."
        ),
        "archived_bytes": ("the message as sent", "le message tel qu’envoyé"),
        "not_archived": (
            "sent before messages were archived: only the trace is kept",
            "envoyé avant l’archivage des messages : seule la trace est conservée"
        ),
        "preview": ("Preview with today’s templates", "Aperçu avec les modèles actuels"),
        "preview_note": (
            "Rendered now with today’s templates and payer profile: not necessarily what was sent.",
            "Rendu maintenant avec les modèles et la fiche actuels : pas forcément ce qui a été envoyé."
        ),
        "preview_failed": ("This message cannot be rendered now:", "Ce message ne peut pas être rendu maintenant :"),
        "text_part": ("Text part", "Partie texte"),
        "html_part": ("HTML part", "Partie HTML"),
        "subject": ("Subject", "Objet"),
        "sms_text": ("SMS text", "Texte du SMS"),
        "letter_pdf": ("The letter (PDF)", "La lettre (PDF)"),
        "actions": ("Actions", "Actions"),
        "requeue": ("Send again", "Renvoyer"),
        "mark-sent": ("Record as sent", "Marquer comme envoyé"),
        "cancel": ("Cancel the job", "Annuler l’envoi"),
        "export_case": ("case file (ZIP)", "dossier de preuve (ZIP)"),
        "cancel_case": ("Cancel the case", "Annuler le dossier"),
        "hold_invoice": ("Hold the invoice", "Suspendre la facture"),
        "release": ("Release the hold", "Lever la suspension"),
        "confirm": ("Confirm", "Confirmer"),
        "confirm_title": ("Please confirm", "Confirmation"),
        "note": ("Note (why)", "Commentaire (pourquoi)"),
        "until": ("Until (YYYY-MM-DD)", "Jusqu’au (AAAA-MM-JJ)"),
        "reason": ("Reason", "Motif"),
        "back": ("Back", "Retour"),
        "filter": ("Filter", "Filtrer"),
        "any": ("Any", "Tous"),
        "from": ("Created from (YYYY-MM-DD)", "Créés depuis le (AAAA-MM-JJ)"),
        "to": ("Created until (YYYY-MM-DD)", "Créés jusqu’au (AAAA-MM-JJ)"),
        "older": ("Older", "Plus anciens"),
        "live_hint": (
            "Trace events appear here as they are recorded. Without JavaScript, reload the page.",
            "Les événements apparaissent ici dès qu’ils sont enregistrés. Sans JavaScript, rechargez la page."
        ),
        "connected": ("Connected", "Connecté"),
        "user": ("User", "Utilisateur"),
        "role": ("Role", "Rôle"),
        "action": ("Action", "Action"),
        "target": ("Target", "Objet"),
        "outcome": ("Outcome", "Résultat"),
        "forbidden": ("This page is not available to your role.", "Cette page n’est pas accessible à votre rôle."),
        "not_found": ("Not found.", "Introuvable."),
        "csrf_failed": (
            "This form expired or did not come from this console: reload the page and try again.",
            "Ce formulaire a expiré ou ne vient pas de cette console : rechargez la page et recommencez."
        ),
        "bad_input": ("This request cannot be used:", "Cette demande est inutilisable :"),
        "done": ("Done:", "Fait :"),
        "refused": ("Refused:", "Refusé :"),
        "error": ("Error", "Erreur"),
        "message": ("Message", "Message"),
        "locales": ("Languages", "Langues"),
        "parts": ("Parts", "Parties"),
        "sample_preview": (
            "Preview for a payer, with sample data", "Aperçu pour un payeur, avec des données d’exemple"
        ),
        "show": ("Show", "Afficher"),
        "unavailable": (
            "The database cannot be reached now; try again in a moment.",
            "La base de données est injoignable pour l’instant ; réessayez dans un moment."
        ),
    ]
}
