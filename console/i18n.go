package console

import "fmt"

// Languages the console speaks, as the bank's other pages; English by default.
const (
	langEN = "en"
	langFR = "fr"
)

// msgs is one language's messages, handed to templates as .L.
type msgs struct{ m map[string]string }

// T is the message for key; a missing key shows as !key so tests catch it.
func (l msgs) T(key string) string {
	if s, ok := l.m[key]; ok {
		return s
	}
	return "!" + key
}

// F formats the message for key (html/template escapes the result).
func (l msgs) F(key string, args ...any) string { return fmt.Sprintf(l.T(key), args...) }

func catalogue(lang string) msgs {
	if lang == langFR {
		return msgs{messagesFR}
	}
	return msgs{messagesEN}
}

// The labels (issue 14) are exact in English; French follows the
// bank's other pages.
var messagesEN = map[string]string{
	"bank": "Online banking for business", "console": "Business administration", "other_lang": "Français",
	"menu": "Administration", "signed_in_as": "Signed in as %s", "sign_out": "Sign out",
	"welcome": "Choose what to administer.",
	"users":   "Users", "job_roles": "Job roles", "account_groups": "Account groups", "approvals": "Approvals",
	"notifications": "Notifications", "connections": "Connected applications", "audit_log": "Audit log",
	"pending_count": "%d pending",

	"col_name": "Name", "col_user_id": "User ID", "col_kind": "Kind", "col_job_role": "Job role",
	"col_account_group": "Account group", "col_status": "Status", "col_actions": "Actions", "col_permissions": "Permissions",
	"col_accounts": "Accounts", "col_permission": "Permission",
	"kind_person": "Person", "kind_software": "Accounting software",
	"status_active": "Active", "status_awaiting_first_sign_in": "Awaiting first sign-in", "status_locked": "Locked", "status_deleted": "Deleted",
	"lock": "Lock", "unlock": "Unlock", "reset_password": "Reset password", "delete": "Delete",
	"action_label": "%s: %s",

	"add_user": "Add user", "first_name": "First name", "last_name": "Last name", "user_id": "User ID", "email": "Email",
	"accounting_software": "Accounting software", "legal_entity": "Legal entity", "job_role": "Job role",
	"account_group": "Account group", "submit_for_approval": "Submit for approval", "none_selected": "— none —",
	"overview":       "Business group overview (all entities)",
	"software_hint":  "With Accounting software checked, only job roles that allow View on Account summary and Manage statements and nothing more are offered.",
	"software_roles": "Show the job roles for accounting software",
	"submitted":      "Submitted and pending approval", "name_required": "First name and last name are required.",

	"create_job_role": "Create job role", "edit_job_role": "Edit job role", "name": "Name",
	"self_approved": "Self-approved", "self_approved_label": "%s: %s, self-approved", "self_approved_list": "(self-approved: %s)",
	"edit": "Edit", "no_rights": "no rights", "none": "none",
	"right_view": "View", "right_create": "Create", "right_edit": "Edit", "right_delete": "Delete", "right_approve": "Approve",
	"right_execute": "Execute", "right_sign": "Sign",

	"create_account_group": "Create account group", "edit_account_group": "Edit account group",
	"type_checking": "Chequing", "type_savings": "Savings", "type_lineofcredit": "Line of credit", "type_loan": "Loan",
	"type_creditcard": "Credit card", "no_accounts": "No accounts.",

	"pending_approvals": "Pending approvals", "my_requests": "My requests", "who_asked": "Asked by", "when": "When",
	"what": "What changes", "approve": "Approve", "reject": "Reject", "reason": "Reason", "cancel": "Cancel",
	"nothing_pending": "Nothing awaits your decision.", "no_requests": "You have no pending requests.",
	"decided_approved": "Approved: the change is applied.", "decided_rejected": "Rejected.", "decided_cancelled": "Cancelled.",
	"temporary_password":       "Temporary password for %s (shown once; give it to the user):",
	"lost_race":                "Nothing was changed: %s",
	"reason_required":          "A reason is required to reject a request (at most 500 characters).",
	"request_pending_approval": "Pending approval", "request_approved": "Approved", "request_rejected": "Rejected",
	"request_cancelled": "Cancelled",
	"d_create_user":     "creates the user %s (%s), %s",
	"d_with_assignment": "with job role %s and account group %s",
	"d_user_lock":       "locks the user %s", "d_user_unlock": "unlocks the user %s",
	"d_user_reset_password": "resets the password of the user %s", "d_user_delete": "deletes the user %s",
	"d_create_role": "creates the job role %s: %s", "d_edit_role": "changes the job role %s: %s",
	"d_rename": "renames %s to %s", "d_no_change": "no change", "d_delete_role": "deletes the job role %s",
	"d_create_group": "creates the account group %s with %s", "d_adds": "adds %s to account group %s",
	"d_removes": "removes %s from account group %s", "d_rename_group": "renames account group %s to %s",
	"d_edit_group": "changes account group %s", "d_delete_group": "deletes the account group %s",
	"d_assign": "gives the user %s job role %s and account group %s",

	"col_application": "Application", "col_user": "User", "col_can_see": "What it can see", "col_which_accounts": "Which accounts",
	"col_since": "Since", "col_last_used": "Last used", "never_used": "Never", "disconnect": "Disconnect",
	"disconnect_label": "Disconnect %s (%s)", "disconnected": "Disconnected: the application's access ended at once.",
	"no_connections": "No application is connected.",

	"mark_all_read": "Mark all as read", "unread": "Unread", "all_read": "All notifications are marked as read.",
	"no_notifications": "No notifications.", "next_page": "Next page",

	"filters": "Filters", "who": "Who", "anyone": "Anyone", "what_action": "What (action starts with)", "from": "From", "to": "To",
	"apply_filters": "Show", "col_when": "When", "col_who": "Who", "col_what": "What", "col_target": "Target", "col_outcome": "Outcome",
	"no_events": "No events.", "bad_date": "Dates are written yyyy-mm-dd.",

	"error_title": "Something went wrong", "not_found": "Not found: it does not exist or is not yours to see.",
	"csrf":           "This form expired or did not come from this page. Nothing was changed; go back, reload the page and try again.",
	"internal":       "An internal error occurred. Nothing more is shown here; the bank has the details.",
	"unavailable":    "The service is briefly unavailable. Try again in a moment.",
	"missing_right":  "You need the %s right on the %s permission for this.",
	"missing_self":   "You submitted this request: approving it yourself needs the self-approved %s right on the %s permission. Another administrator must decide it.",
	"back":           "Back",
	"choose_context": "Choose a context", "context": "Administer",
	"choose_context_intro": "You administer more than one context. Choose the business group overview or a legal entity: the pages then show and change what that context holds.",
	"switch_context":       "Switch", "context_change": "Context: %s (change)",
	"not_signed_in": "You are not signed in as an administrator, or your session ended. Nothing was changed; sign in, then try again.",

	// The brand's support contact (issue 14), as on the bank's other pages.
	"support_contact": "Need help? Contact the bank:", "support_link": "Help centre",

	// The rules' refusals (refusals.go), by what they are.
	"race_decided":           "the request was decided or cancelled by someone else meanwhile.",
	"race_target_moved":      "what the request changes was changed or deleted since it was submitted, so it was not applied. Reject it and submit a new one.",
	"refused_rule3_role":     "This job role cannot be given to an accounting software user: it may allow only View on Account summary and Manage statements (rule 3).",
	"refused_grants":         "These rights cannot be submitted: a self-approved right must be one the role holds, and a role given to an accounting software user may allow only View on Account summary and Manage statements (rule 3).",
	"refused_self":           "You cannot do this to your own user; another administrator must.",
	"refused_entity_context": "In this legal entity's context, only this entity's users, accounts and account groups can be used.",
	"refused_software_box":   "The Accounting software box of an existing user cannot change: delete the user and add it again.",
	"refused_name":           "A name is required.",
	"refused_login_taken":    "This user ID is already taken; choose another user ID.",
	"refused_user_state":     "The user's status does not allow this (already locked, not locked, or deleted). Reload the page to see it.",
	"refused_role_conflict":  "Nothing was changed: a job role with this name exists, or the role changed or is assigned to users. Reload the page and try again.",
	"refused_group_conflict": "Nothing was changed: an account group with this name exists, the account is already in it, or the group changed or is assigned to users. Reload the page and try again.",
	"refused_disconnected":   "This application was already disconnected.",
	"refused_other":          "The bank's rules refused this: %s",
}

var messagesFR = map[string]string{
	"bank": "Services bancaires en ligne pour entreprises", "console": "Administration de l'entreprise", "other_lang": "English",
	"menu": "Administration", "signed_in_as": "Connecté en tant que %s", "sign_out": "Fermer la session",
	"welcome": "Choisissez ce que vous administrez.",
	"users":   "Utilisateurs", "job_roles": "Rôles", "account_groups": "Groupes de comptes", "approvals": "Approbations",
	"notifications": "Notifications", "connections": "Applications connectées", "audit_log": "Journal d'audit",
	"pending_count": "%d en attente",

	"col_name": "Nom", "col_user_id": "Code d'utilisateur", "col_kind": "Type", "col_job_role": "Rôle",
	"col_account_group": "Groupe de comptes", "col_status": "État", "col_actions": "Actions", "col_permissions": "Autorisations",
	"col_accounts": "Comptes", "col_permission": "Autorisation",
	"kind_person": "Personne", "kind_software": "Logiciel comptable",
	"status_active": "Actif", "status_awaiting_first_sign_in": "En attente de première connexion", "status_locked": "Verrouillé",
	"status_deleted": "Supprimé",
	"lock":           "Verrouiller", "unlock": "Déverrouiller", "reset_password": "Réinitialiser le mot de passe", "delete": "Supprimer",
	"action_label": "%s : %s",

	"add_user": "Ajouter un utilisateur", "first_name": "Prénom", "last_name": "Nom", "user_id": "Code d'utilisateur",
	"email": "Courriel", "accounting_software": "Logiciel comptable", "legal_entity": "Entité juridique", "job_role": "Rôle",
	"account_group": "Groupe de comptes", "submit_for_approval": "Soumettre pour approbation", "none_selected": "— aucun —",
	"overview":       "Vue d'ensemble du groupe (toutes les entités)",
	"software_hint":  "Avec Logiciel comptable coché, seuls les rôles qui permettent Consulter sur Sommaire des comptes et Gérer les relevés, et rien de plus, sont proposés.",
	"software_roles": "Afficher les rôles pour un logiciel comptable",
	"submitted":      "Soumis et en attente d'approbation", "name_required": "Le prénom et le nom sont obligatoires.",

	"create_job_role": "Créer un rôle", "edit_job_role": "Modifier le rôle", "name": "Nom",
	"self_approved": "Auto-approbation", "self_approved_label": "%s : %s, auto-approbation", "self_approved_list": "(auto-approbation : %s)",
	"edit": "Modifier", "no_rights": "aucun droit", "none": "aucun",
	"right_view": "Consulter", "right_create": "Créer", "right_edit": "Modifier", "right_delete": "Supprimer",
	"right_approve": "Approuver", "right_execute": "Exécuter", "right_sign": "Signer",

	"create_account_group": "Créer un groupe de comptes", "edit_account_group": "Modifier le groupe de comptes",
	"type_checking": "Chèques", "type_savings": "Épargne", "type_lineofcredit": "Marge de crédit", "type_loan": "Prêt",
	"type_creditcard": "Carte de crédit", "no_accounts": "Aucun compte.",

	"pending_approvals": "Approbations en attente", "my_requests": "Mes demandes", "who_asked": "Demandé par", "when": "Quand",
	"what": "Changement", "approve": "Approuver", "reject": "Refuser", "reason": "Motif", "cancel": "Annuler",
	"nothing_pending": "Rien n'attend votre décision.", "no_requests": "Vous n'avez aucune demande en attente.",
	"decided_approved": "Approuvé : le changement est appliqué.", "decided_rejected": "Refusé.", "decided_cancelled": "Annulé.",
	"temporary_password":       "Mot de passe temporaire de %s (affiché une seule fois ; remettez-le à l'utilisateur) :",
	"lost_race":                "Rien n'a été changé : %s",
	"reason_required":          "Un motif est obligatoire pour refuser une demande (500 caractères au plus).",
	"request_pending_approval": "En attente d'approbation", "request_approved": "Approuvée", "request_rejected": "Refusée",
	"request_cancelled": "Annulée",
	"d_create_user":     "crée l'utilisateur %s (%s), %s",
	"d_with_assignment": "avec le rôle %s et le groupe de comptes %s",
	"d_user_lock":       "verrouille l'utilisateur %s", "d_user_unlock": "déverrouille l'utilisateur %s",
	"d_user_reset_password": "réinitialise le mot de passe de l'utilisateur %s", "d_user_delete": "supprime l'utilisateur %s",
	"d_create_role": "crée le rôle %s : %s", "d_edit_role": "modifie le rôle %s : %s",
	"d_rename": "renomme %s en %s", "d_no_change": "aucun changement", "d_delete_role": "supprime le rôle %s",
	"d_create_group": "crée le groupe de comptes %s avec %s", "d_adds": "ajoute %s au groupe de comptes %s",
	"d_removes": "retire %s du groupe de comptes %s", "d_rename_group": "renomme le groupe de comptes %s en %s",
	"d_edit_group": "modifie le groupe de comptes %s", "d_delete_group": "supprime le groupe de comptes %s",
	"d_assign": "donne à l'utilisateur %s le rôle %s et le groupe de comptes %s",

	"col_application": "Application", "col_user": "Utilisateur", "col_can_see": "Ce qu'elle peut voir", "col_which_accounts": "Quels comptes",
	"col_since": "Depuis", "col_last_used": "Dernière utilisation", "never_used": "Jamais", "disconnect": "Déconnecter",
	"disconnect_label": "Déconnecter %s (%s)", "disconnected": "Déconnectée : l'accès de l'application a pris fin immédiatement.",
	"no_connections": "Aucune application n'est connectée.",

	"mark_all_read": "Tout marquer comme lu", "unread": "Non lu", "all_read": "Toutes les notifications sont marquées comme lues.",
	"no_notifications": "Aucune notification.", "next_page": "Page suivante",

	"filters": "Filtres", "who": "Qui", "anyone": "Tout le monde", "what_action": "Quoi (l'action commence par)", "from": "Du",
	"to": "Au", "apply_filters": "Afficher", "col_when": "Quand", "col_who": "Qui", "col_what": "Quoi", "col_target": "Cible",
	"col_outcome": "Résultat", "no_events": "Aucun événement.", "bad_date": "Les dates s'écrivent aaaa-mm-jj.",

	"error_title": "Un problème est survenu", "not_found": "Introuvable : cela n'existe pas ou ne vous est pas accessible.",
	"csrf":           "Ce formulaire a expiré ou ne vient pas de cette page. Rien n'a été changé ; revenez en arrière, rechargez la page et réessayez.",
	"internal":       "Une erreur interne est survenue. La banque en a le détail.",
	"unavailable":    "Le service est brièvement indisponible. Réessayez dans un instant.",
	"missing_right":  "Il vous faut le droit %s sur l'autorisation %s pour cela.",
	"missing_self":   "Vous avez soumis cette demande : l'approuver vous-même exige le droit %s en auto-approbation sur l'autorisation %s. Un autre administrateur doit en décider.",
	"back":           "Retour",
	"choose_context": "Choisir un contexte", "context": "Administrer",
	"choose_context_intro": "Vous administrez plus d'un contexte. Choisissez la vue d'ensemble du groupe ou une entité juridique : les pages montrent et modifient alors ce que ce contexte contient.",
	"switch_context":       "Changer", "context_change": "Contexte : %s (changer)",
	"not_signed_in": "Vous n'êtes pas connecté en tant qu'administrateur, ou votre session a pris fin. Rien n'a été changé ; connectez-vous, puis réessayez.",

	"support_contact": "Besoin d'aide? Communiquez avec la banque :", "support_link": "Centre d'aide",

	"race_decided":           "la demande a été décidée ou annulée par quelqu'un d'autre entre-temps.",
	"race_target_moved":      "ce que la demande modifie a été changé ou supprimé depuis qu'elle a été soumise ; elle n'a donc pas été appliquée. Refusez-la et soumettez-en une nouvelle.",
	"refused_rule3_role":     "Ce rôle ne peut pas être donné à un utilisateur Logiciel comptable : il ne peut permettre que Consulter sur Sommaire des comptes et Gérer les relevés (règle 3).",
	"refused_grants":         "Ces droits ne peuvent pas être soumis : un droit en auto-approbation doit être un droit que le rôle détient, et un rôle donné à un logiciel comptable ne peut permettre que Consulter sur Sommaire des comptes et Gérer les relevés (règle 3).",
	"refused_self":           "Vous ne pouvez pas faire cela à votre propre utilisateur ; un autre administrateur doit le faire.",
	"refused_entity_context": "Dans le contexte de cette entité juridique, seuls ses utilisateurs, ses comptes et ses groupes de comptes peuvent être utilisés.",
	"refused_software_box":   "La case Logiciel comptable d'un utilisateur existant ne peut pas changer : supprimez l'utilisateur et ajoutez-le de nouveau.",
	"refused_name":           "Un nom est obligatoire.",
	"refused_login_taken":    "Ce code d'utilisateur est déjà pris ; choisissez-en un autre.",
	"refused_user_state":     "L'état de l'utilisateur ne permet pas cela (déjà verrouillé, non verrouillé ou supprimé). Rechargez la page pour le voir.",
	"refused_role_conflict":  "Rien n'a été changé : un rôle de ce nom existe, ou le rôle a changé ou est attribué à des utilisateurs. Rechargez la page et réessayez.",
	"refused_group_conflict": "Rien n'a été changé : un groupe de comptes de ce nom existe, le compte y est déjà, ou le groupe a changé ou est attribué à des utilisateurs. Rechargez la page et réessayez.",
	"refused_disconnected":   "Cette application était déjà déconnectée.",
	"refused_other":          "Les règles de la banque ont refusé cela (détail en anglais) : %s",
}
