package consent

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Languages the pages speak; English is the default.
const (
	langEN = "en"
	langFR = "fr"
)

// msgs is one language's message catalogue, handed to templates as .L.
type msgs struct {
	lang string
	m    map[string]string
}

// T returns the message for key; a missing key shows as !key so tests catch it.
func (l msgs) T(key string) string {
	if s, ok := l.m[key]; ok {
		return s
	}
	return "!" + key
}

// F formats the message for key with args (html/template escapes the result).
func (l msgs) F(key string, args ...any) string {
	return fmt.Sprintf(l.T(key), args...)
}

func catalogue(lang string) msgs {
	if lang == langFR {
		return msgs{lang: langFR, m: messagesFR}
	}
	return msgs{lang: langEN, m: messagesEN}
}

// negotiate picks en or fr from an Accept-Language header by q-value, English
// when neither is acceptable.
func negotiate(header string) string {
	type cand struct {
		lang string
		q    float64
		pos  int
	}
	var cs []cand
	for i, part := range strings.Split(header, ",") {
		fields := strings.Split(strings.TrimSpace(part), ";")
		tag := strings.ToLower(strings.TrimSpace(fields[0]))
		q := 1.0
		for _, p := range fields[1:] {
			p = strings.TrimSpace(p)
			if v, ok := strings.CutPrefix(p, "q="); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					f = 0
				}
				q = f
			}
		}
		primary, _, _ := strings.Cut(tag, "-")
		if (primary == langEN || primary == langFR) && q > 0 {
			cs = append(cs, cand{primary, q, i})
		}
	}
	if len(cs) == 0 {
		return langEN
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	return cs[0].lang
}

// languageOf is the page language: ?lang= (the user's switch), else the
// application's ui_locales (OIDC Core §3.1.2.1, passed on by authz), else
// the language cookie, else Accept-Language. Either query parameter is
// remembered in the cookie, so the pages after the first follow it.
func languageOf(r *http.Request) (lang string, fromQuery bool) {
	q := r.URL.Query()
	if l := q.Get("lang"); l == langEN || l == langFR {
		return l, true
	}
	if l := fromUILocales(q.Get("ui_locales")); l != "" {
		return l, true
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == langEN || c.Value == langFR) {
		return c.Value, false
	}
	return negotiate(r.Header.Get("Accept-Language")), false
}

// fromUILocales is the first language of a ui_locales list (BCP 47 tags,
// space-separated, in order of preference) the pages speak: fr-CA is
// French; "" if none.
func fromUILocales(list string) string {
	for _, tag := range strings.Fields(list) {
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if primary == langEN || primary == langFR {
			return primary
		}
	}
	return ""
}

var messagesEN = map[string]string{
	"bank":           "Online banking for business",
	"lang_name":      "English",
	"other_lang":     "Français",
	"signed_in_as":   "Signed in as %s",
	"sign_out":       "Sign out",
	"connections":    "Connected applications",
	"sign_in_title":  "Sign in",
	"sign_in_for":    "%s is asking to connect to your business accounts. Sign in to continue.",
	"user_id":        "User ID",
	"password":       "Password",
	"sign_in":        "Sign in",
	"bad_login":      "The user ID or password is incorrect.",
	"locked_until":   "Too many failed attempts: your access is locked. Try again after %s, or contact your administrator.",
	"locked_admin":   "Your access is locked. Contact your administrator.",
	"signed_out":     "You are signed out.",
	"signin_busy":    "The bank is busy right now: nothing was checked. Please try again in a moment.",
	"signin_limited": "Too many sign-in attempts: nothing was checked. Please wait a minute and try again.",
	"busy_title":     "Please try again",

	"unavailable_body": "The bank's sign-in service is temporarily unavailable: nothing was changed. Please try again in a few minutes.",

	"first_title":       "Choose your password",
	"first_intro":       "This is your first sign-in: replace your temporary password and choose a security question.",
	"password_rules":    "At least 12 characters with at least three of: lower-case letters, upper-case letters, digits, symbols. Not your user ID and not your temporary password.",
	"new_password":      "New password",
	"confirm_password":  "Confirm new password",
	"security_question": "Security question",
	"choose_question":   "Choose a question",
	"answer":            "Answer",
	"continue":          "Continue",
	"pw_too_short":      "The new password must have at least 12 characters.",
	"pw_too_long":       "The new password must have at most 256 characters.",
	"pw_is_user_id":     "The new password must not contain your user ID.",
	"pw_is_temporary":   "The new password must not be your temporary password.",
	"pw_too_simple":     "The new password must mix at least three kinds of characters: lower-case letters, upper-case letters, digits, symbols.",
	"pw_mismatch":       "The two new passwords are not the same.",
	"question_missing":  "Choose a security question.",
	"answer_missing":    "Enter an answer of at least 3 characters to your security question.",
	"fix_problems":      "Please correct the following:",

	"q_first_school":      "What was the name of your first school?",
	"q_first_pet":         "What was the name of your first pet?",
	"q_birth_city":        "In which city were you born?",
	"q_first_employer":    "What was the name of your first employer?",
	"q_favourite_teacher": "What was the name of your favourite teacher?",

	"consent_title": "Connect %s",
	"consent_intro": "%s wants to read information from your business accounts.",
	"can_see":       "It will be able to see:",

	"never_transact":   "It can never make or sign transactions.",
	"offline":          "It can keep reading while you are away, without asking you again.",
	"accounts_heading": "Accounts it will see",
	"accounts_note":    "These are the accounts of your account group. If your administrator changes the group, what it can see changes too.",
	"no_accounts":      "Your account group has no account yet. Your administrator decides which accounts are included.",
	"col_account":      "Account",
	"col_number":       "Number",
	"col_currency":     "Currency",
	"duration_heading": "How long",
	"duration_forever": "Access lasts until you disconnect it in Connected applications.",
	"duration_until":   "Access lasts until %s, unless you disconnect it earlier in Connected applications.",
	"allow":            "Allow",
	"deny":             "Deny",
	"policy_link":      "Privacy policy of %s",
	"terms_link":       "Terms of service of %s",
	"return_to":        "Return to %s",
	"not_as_title":     "This user cannot connect accounting software",
	"not_as_body":      "Only an accounting software user can connect accounting software. Ask your administrator for an accounting software user, then connect again from %s.",
	"no_scope_title":   "Nothing can be shared",
	"no_scope_body":    "Your job role does not allow %s to see account balances, transactions or statements. Ask your administrator to review your job role, then connect again.",
	"conn_intro":       "These applications can read information from your business accounts. Disconnecting one stops its access at once.",
	"conn_none":        "No application is connected.",
	"col_application":  "Application",
	"col_can_see":      "Can see",
	"col_since":        "Connected since",
	"col_last_used":    "Last used",
	"col_action":       "Action",
	"never_used":       "Never",
	"disconnect":       "Disconnect",
	"disconnect_label": "Disconnect %s",
	"disconnected":     "The application is disconnected: it can no longer read your information.",

	"error_title":      "Something went wrong",
	"error_generic":    "We could not complete your request. Please try again later.",
	"error_reference":  "Reference: %s",
	"expired_title":    "This request has expired",
	"expired_body":     "This connection request has expired or is not valid. Go back to your accounting software and connect again.",
	"answered_title":   "This request has already been answered",
	"answered_body":    "This connection request has already been answered. Go back to your accounting software.",
	"csrf_title":       "This form has expired",
	"csrf_body":        "This form has expired or was sent from another site. Go back, reload the page and try again.",
	"not_found_title":  "Page not found",
	"not_found_body":   "This page does not exist.",
	"bad_request_body": "The request could not be understood. Go back and try again.",

	"authorize_error_body": "The application asked for something the bank cannot accept, so you cannot go on from here. Go back to the application and try again; if this happens again, contact the application's support and give them the error code below.",
	"error_code":           "Error code: %s",

	// The brand's support contact and the sign-in page's forgotten password
	// (issue 14): an administrator of the business resets it.
	"support_contact":   "Need help? Contact the bank:",
	"support_link":      "Help centre",
	"forgot_title":      "Forgot your password?",
	"forgot_body":       "The bank cannot tell you your password. Ask an administrator of your business to reset it: you will get a temporary password and choose a new one when you next sign in.",
	"forgot_no_admin":   "If you are your business's only administrator, contact the bank:",
	"col_entity":        "Legal entity",
	"col_type":          "Type",
	"col_accounts":      "Accounts",
	"conn_no_accounts":  "None",
	"type_checking":     "Chequing",
	"type_savings":      "Savings",
	"type_lineofcredit": "Line of credit",
	"type_loan":         "Loan",
	"type_creditcard":   "Credit card",
}

var messagesFR = map[string]string{
	"bank":           "Services bancaires en ligne pour entreprises",
	"lang_name":      "Français",
	"other_lang":     "English",
	"signed_in_as":   "Connecté en tant que %s",
	"sign_out":       "Fermer la session",
	"connections":    "Applications connectées",
	"sign_in_title":  "Connexion",
	"sign_in_for":    "%s demande l'accès à vos comptes d'entreprise. Connectez-vous pour continuer.",
	"user_id":        "Code d'utilisateur",
	"password":       "Mot de passe",
	"sign_in":        "Se connecter",
	"bad_login":      "Le code d'utilisateur ou le mot de passe est incorrect.",
	"locked_until":   "Trop de tentatives infructueuses : votre accès est verrouillé. Réessayez après %s ou communiquez avec votre administrateur.",
	"locked_admin":   "Votre accès est verrouillé. Communiquez avec votre administrateur.",
	"signed_out":     "Votre session est fermée.",
	"signin_busy":    "La banque est très sollicitée en ce moment : rien n'a été vérifié. Veuillez réessayer dans un instant.",
	"signin_limited": "Trop de tentatives de connexion : rien n'a été vérifié. Veuillez patienter une minute, puis réessayer.",
	"busy_title":     "Veuillez réessayer",

	"unavailable_body": "Le service de connexion de la banque est temporairement indisponible : rien n'a été modifié. Veuillez réessayer dans quelques minutes.",

	"first_title":       "Choisissez votre mot de passe",
	"first_intro":       "C'est votre première connexion : remplacez votre mot de passe temporaire et choisissez une question de sécurité.",
	"password_rules":    "Au moins 12 caractères, dont au moins trois types parmi : minuscules, majuscules, chiffres, symboles. Ni votre code d'utilisateur ni votre mot de passe temporaire.",
	"new_password":      "Nouveau mot de passe",
	"confirm_password":  "Confirmez le nouveau mot de passe",
	"security_question": "Question de sécurité",
	"choose_question":   "Choisissez une question",
	"answer":            "Réponse",
	"continue":          "Continuer",
	"pw_too_short":      "Le nouveau mot de passe doit compter au moins 12 caractères.",
	"pw_too_long":       "Le nouveau mot de passe doit compter au plus 256 caractères.",
	"pw_is_user_id":     "Le nouveau mot de passe ne doit pas contenir votre code d'utilisateur.",
	"pw_is_temporary":   "Le nouveau mot de passe ne doit pas être votre mot de passe temporaire.",
	"pw_too_simple":     "Le nouveau mot de passe doit combiner au moins trois types de caractères : minuscules, majuscules, chiffres, symboles.",
	"pw_mismatch":       "Les deux nouveaux mots de passe ne sont pas identiques.",
	"question_missing":  "Choisissez une question de sécurité.",
	"answer_missing":    "Entrez une réponse d'au moins 3 caractères à votre question de sécurité.",
	"fix_problems":      "Veuillez corriger ce qui suit :",

	"q_first_school":      "Quel était le nom de votre première école?",
	"q_first_pet":         "Quel était le nom de votre premier animal de compagnie?",
	"q_birth_city":        "Dans quelle ville êtes-vous né(e)?",
	"q_first_employer":    "Quel était le nom de votre premier employeur?",
	"q_favourite_teacher": "Quel était le nom de votre enseignant(e) préféré(e)?",

	"consent_title": "Connecter %s",
	"consent_intro": "%s souhaite consulter des renseignements de vos comptes d'entreprise.",
	"can_see":       "Il pourra voir :",

	"never_transact":   "Il ne pourra jamais effectuer ni signer d'opérations.",
	"offline":          "Il pourra continuer à consulter en votre absence, sans vous le redemander.",
	"accounts_heading": "Comptes qu'il verra",
	"accounts_note":    "Ce sont les comptes de votre groupe de comptes. Si votre administrateur modifie le groupe, ce qu'il voit change aussi.",
	"no_accounts":      "Votre groupe de comptes ne contient encore aucun compte. Votre administrateur décide des comptes inclus.",
	"col_account":      "Compte",
	"col_number":       "Numéro",
	"col_currency":     "Devise",
	"duration_heading": "Durée",
	"duration_forever": "L'accès dure jusqu'à ce que vous le déconnectiez dans Applications connectées.",
	"duration_until":   "L'accès dure jusqu'au %s, à moins que vous le déconnectiez plus tôt dans Applications connectées.",
	"allow":            "Autoriser",
	"deny":             "Refuser",
	"policy_link":      "Politique de confidentialité de %s",
	"terms_link":       "Conditions d'utilisation de %s",
	"return_to":        "Retourner à %s",
	"not_as_title":     "Cet utilisateur ne peut pas connecter de logiciel comptable",
	"not_as_body":      "Seul un utilisateur de logiciel comptable peut connecter un logiciel comptable. Demandez un utilisateur de logiciel comptable à votre administrateur, puis connectez-vous de nouveau à partir de %s.",
	"no_scope_title":   "Rien ne peut être partagé",
	"no_scope_body":    "Votre rôle ne permet pas à %s de voir les soldes, les opérations ni les relevés. Demandez à votre administrateur de revoir votre rôle, puis connectez-vous de nouveau.",
	"conn_intro":       "Ces applications peuvent consulter des renseignements de vos comptes d'entreprise. En déconnecter une met fin à son accès immédiatement.",
	"conn_none":        "Aucune application n'est connectée.",
	"col_application":  "Application",
	"col_can_see":      "Peut voir",
	"col_since":        "Connectée depuis",
	"col_last_used":    "Dernière utilisation",
	"col_action":       "Action",
	"never_used":       "Jamais",
	"disconnect":       "Déconnecter",
	"disconnect_label": "Déconnecter %s",
	"disconnected":     "L'application est déconnectée : elle ne peut plus consulter vos renseignements.",

	"error_title":      "Une erreur s'est produite",
	"error_generic":    "Nous n'avons pas pu traiter votre demande. Veuillez réessayer plus tard.",
	"error_reference":  "Référence : %s",
	"expired_title":    "Cette demande a expiré",
	"expired_body":     "Cette demande de connexion a expiré ou n'est pas valide. Retournez à votre logiciel comptable et connectez-vous de nouveau.",
	"answered_title":   "Cette demande a déjà reçu une réponse",
	"answered_body":    "Cette demande de connexion a déjà reçu une réponse. Retournez à votre logiciel comptable.",
	"csrf_title":       "Ce formulaire a expiré",
	"csrf_body":        "Ce formulaire a expiré ou a été envoyé depuis un autre site. Revenez en arrière, rechargez la page et réessayez.",
	"not_found_title":  "Page introuvable",
	"not_found_body":   "Cette page n'existe pas.",
	"bad_request_body": "La demande n'a pas pu être comprise. Revenez en arrière et réessayez.",

	"authorize_error_body": "L'application a fait une demande que la banque ne peut pas accepter : vous ne pouvez pas continuer d'ici. Retournez à l'application et réessayez; si cela se reproduit, communiquez avec le soutien de l'application en lui donnant le code d'erreur ci-dessous.",
	"error_code":           "Code d'erreur : %s",

	"support_contact":   "Besoin d'aide? Communiquez avec la banque :",
	"support_link":      "Centre d'aide",
	"forgot_title":      "Mot de passe oublié?",
	"forgot_body":       "La banque ne peut pas vous donner votre mot de passe. Demandez à un administrateur de votre entreprise de le réinitialiser : vous recevrez un mot de passe temporaire et en choisirez un nouveau à votre prochaine connexion.",
	"forgot_no_admin":   "Si vous êtes le seul administrateur de votre entreprise, communiquez avec la banque :",
	"col_entity":        "Entité juridique",
	"col_type":          "Type",
	"col_accounts":      "Comptes",
	"conn_no_accounts":  "Aucun",
	"type_checking":     "Chèques",
	"type_savings":      "Épargne",
	"type_lineofcredit": "Marge de crédit",
	"type_loan":         "Prêt",
	"type_creditcard":   "Carte de crédit",
}
