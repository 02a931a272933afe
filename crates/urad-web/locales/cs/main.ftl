# Czech texts of the portal. Every message here must exist in ../en/main.ftl too (a test checks).

site-name = Portál služeb
skip-link = Přejít na obsah
nav-label = Hlavní navigace
nav-home = Úvod
nav-catalog = Všechny služby
lang-switch = English
lang-switch-label = Switch to English
footer-contact = Kontakt
footer-data-box = Datová schránka
footer-email = E-podatelna
footer-phone = Telefon
footer-hours = Úřední hodiny
footer-demo = Demonstrační provoz: obsah je ukázkový.

home-title = Portál služeb krajského úřadu
home-heading = Vyřiďte si záležitosti s krajským úřadem z domova
home-lead = { $count ->
    [one] Najdete zde { $count } službu úřadu: co to je, kdo ji může využít, kolik stojí a jak ji vyřídit.
    [few] Najdete zde { $count } služby úřadu: co to jsou, kdo je může využít, kolik stojí a jak je vyřídit.
   *[other] Najdete zde { $count } služeb úřadu: co to jsou, kdo je může využít, kolik stojí a jak je vyřídit.
}
search-label = Hledat službu
search-hint = Například „kotlíková dotace“, „veřejná sbírka“ nebo „STK“.
search-button = Hledat
home-situations = Životní situace
home-applicants = Pro koho
home-popular = Nejčastěji využívané služby
home-all-services = Zobrazit všechny služby
applicant-citizen-note = Služby pro obyvatele kraje.
applicant-sole-trader-note = Služby pro živnostníky a OSVČ.
applicant-company-note = Služby pro firmy, spolky a další organizace.
applicant-municipality-note = Služby a podpora pro obce a města.

catalog-title = Služby úřadu
search-title = Hledání: { $query }
catalog-heading = Služby krajského úřadu
filters-heading = Hledat a filtrovat
filter-q-label = Hledaný text
filter-applicant-label = Kdo žádá
filter-situation-label = Životní situace
filter-agenda-label = Agenda
filter-channel-label = Způsob vyřízení
filter-any-applicant = Kdokoli
filter-any-situation = Všechny životní situace
filter-any-agenda = Všechny agendy
filter-any-channel = Online i osobně
filter-apply = Zobrazit výsledky
filter-clear = Zrušit filtry
result-count = { $count ->
    [one] Nalezena { $count } služba
    [few] Nalezeny { $count } služby
   *[other] Nalezeno { $count } služeb
}
results-label = Výsledky
no-results = Žádná služba neodpovídá zadání.
no-results-hint = Zkuste jiná slova nebo zrušte některý z filtrů.
error-summary-title = Hledání nelze provést
pagination-label = Stránkování výsledků
pagination-prev = Předchozí stránka
pagination-next = Další stránka
pagination-status = Stránka { $page } z { $pages }
query-malformed = Adresa obsahuje chybně zapsané parametry. Začněte hledat znovu z formuláře.
filter-bad-applicant = Typ žadatele „{ $value }“ neznáme. Vyberte žadatele ze seznamu.
filter-bad-situation = Životní situaci „{ $value }“ neznáme. Vyberte životní situaci ze seznamu.
filter-bad-agenda = Agendu „{ $value }“ neznáme. Vyberte agendu ze seznamu.
filter-bad-channel = Způsob vyřízení „{ $value }“ neznáme. Vyberte „online“ nebo „osobně“.
filter-query-too-long = Hledaný text je příliš dlouhý. Zkraťte ho nejvýše na { $max } znaků.
filter-bad-page = Číslo stránky „{ $value }“ není platné. Použijte celé číslo od 1.
filter-bad-per-page = Počet výsledků na stránku „{ $value }“ není platný. Použijte číslo od 1 do 100.
channel-online-badge = Lze vyřídit online

fact-applicants = Kdo může službu využít
fact-channel = Způsob vyřízení
fact-fee = Správní poplatek
fact-processing-time = Lhůta vyřízení
fact-agenda = Agenda
fact-department = Odbor
fee-none = Bez poplatku
processing-on-the-spot = Na počkání
processing-days = { $days ->
    [one] Do { $days } dne
   *[other] Do { $days } dnů
}
service-facts = Přehled
service-description = Popis služby
service-documents = Co budete potřebovat
service-no-documents = Nic dalšího si připravovat nemusíte.
service-in-person = Vyřízení osobně
in-person-reason = Proč je nutná osobní návštěva
in-person-place = Kam se obrátit
service-start = Spustit službu online
service-start-hint = Vyplníte elektronický formulář a obdržíte potvrzení o doručení.
service-legal-basis = Právní předpisy
service-situations = Životní situace
service-contact = Kontakt
service-office-hours = Úřední hodiny
breadcrumbs-label = Drobečková navigace

apply-title = Podání: { $service }
apply-heading = Elektronické podání
apply-lead = Než začnete, připravte si:
apply-identity = Přihlásíte se identitou občana (eObčanka nebo bankovní identita). Údaje z ní formulář vyplní za vás.
apply-form-coming = Elektronický formulář této služby na portálu připravujeme. Podání můžete již nyní učinit těmito způsoby:
apply-data-box = Datovou schránkou úřadu
apply-email = E-mailem na elektronickou podatelnu s uznávaným elektronickým podpisem
apply-back = Zpět na popis služby

error-404-title = Stránka nenalezena
error-404-text = Stránka, kterou hledáte, neexistuje nebo byla přesunuta. Zkontrolujte adresu nebo službu vyhledejte.
error-400-title = Požadavek nelze zpracovat
error-400-text = Adresa obsahuje neplatné údaje. Začněte prosím znovu z úvodní stránky.
error-500-title = Omlouváme se, na naší straně nastala chyba
error-500-text = Zkuste to prosím za chvíli znovu. Pokud potíže trvají, kontaktujte nás a uveďte kód požadavku.
error-request-id = Kód požadavku
error-back-home = Přejít na úvodní stránku
error-search = Vyhledat službu

api-no-service = Služba „{ $slug }“ neexistuje.

footer-accessibility = Prohlášení o přístupnosti
a11y-title = Prohlášení o přístupnosti
a11y-intro = Krajský úřad se zavazuje zpřístupnit tento portál v souladu se zákonem č. 99/2019 Sb., o přístupnosti internetových stránek a mobilních aplikací.
a11y-status-heading = Stav souladu
a11y-status = Portál splňuje požadavky normy ČSN EN 301 549 a úrovně AA pravidel WCAG 2.1. Všechny stránky fungují bez JavaScriptu a lze je ovládat klávesnicí.
a11y-method-heading = Jak jsme soulad posoudili
a11y-method = Soulad jsme posoudili sami: každý typ stránky v češtině i angličtině při každé změně kontrolují automatické testy (axe, pravidla WCAG 2.1 A a AA) ve skutečném prohlížeči a testy ovládání klávesnicí. Nezávislý audit zatím neproběhl.
a11y-feedback-heading = Zpětná vazba a kontakt
a11y-feedback = Narazili jste na překážku? Napište nám, co nefungovalo a na které stránce; odpovíme do 30 dnů a obsah vám mezitím poskytneme jinou cestou.
a11y-enforcement-heading = Vymáhání
a11y-enforcement = Pokud s naší odpovědí nebudete spokojeni, můžete se obrátit na Ministerstvo vnitra, které dohlíží na dodržování zákona č. 99/2019 Sb.
a11y-date = Prohlášení bylo vypracováno 23. listopadu 2026.

## Sign-in, the identity gateway and My account
nav-sign-in = Přihlásit se
nav-sign-out = Odhlásit se
nav-account = Můj účet
loa-low = nízká
loa-substantial = značná
loa-high = vysoká
signin-error-title = Přihlášení se nepodařilo
signin-error-expired = Přihlašování vypršelo nebo už bylo dokončeno. Vraťte se do služby a přihlaste se znovu.
signin-error-other-browser = Přihlašování bylo zahájeno v jiném prohlížeči nebo okně. Z bezpečnostních důvodů ho dokončete tam, kde jste začali, nebo začněte znovu.
signin-error-unavailable = Přihlášení je teď nedostupné. Zkuste to prosím za chvíli znovu.
signin-error-upstream = Poskytovatel identity přihlášení nedokončil nebo odpověděl chybně. Zkuste to znovu, případně zvolte jiný způsob přihlášení.
signin-error-missing-client = V odkazu na přihlášení chybí označení služby (client_id). Vraťte se do služby a zkuste to znovu.
signin-error-unknown-client = Služba, která vás sem poslala, není v identitní bráně registrována. Obraťte se na jejího provozovatele.
signin-error-missing-redirect-uri = V odkazu na přihlášení chybí adresa návratu do služby (redirect_uri).
signin-error-unregistered-redirect-uri = Adresa návratu do služby není registrována, proto vás tam z bezpečnostních důvodů nepošleme.
signin-error-server-error = Přihlášení je teď nedostupné. Zkuste to prosím za chvíli znovu.
signin-error-bad-hint = Odkaz na odhlášení obsahuje neplatný údaj (id_token_hint). Odhlásit se můžete v části Můj účet.
signin-error-bad-logout-uri = Adresa, kam se po odhlášení vrátit, není pro tuto službu registrována.
signin-error-demo-request = Demonstrační poskytovatel identity dostal neúplný požadavek. Začněte přihlášení znovu ze služby.
signin-error-demo-level = Zvolená osoba tuto úroveň ověření nemá. Zvolte jinou úroveň nebo osobu.
signin-error-level = Služba vyžaduje vyšší úroveň ověření, než jaké jste při přihlášení dosáhli. Přihlaste se prostředkem s vyšší úrovní (např. občanským průkazem s čipem).
signin-error-cancelled = Přihlášení bylo zrušeno. Můžete to zkusit znovu.
signin-error-csrf = Formulář vypršel. Načtěte stránku znovu a akci opakujte.
chooser-title = Zvolte způsob přihlášení
chooser-lead = Služba vyžaduje úroveň ověření nejméně
demo-tag = ukázka
demo-title = Demonstrační poskytovatel identity
demo-banner = UKÁZKA – nejde o skutečné přihlášení. Osoby jsou smyšlené a slouží jen k vyzkoušení portálu.
demo-lead = Zvolte zkušební osobu a úroveň ověření. Služba požaduje nejméně úroveň
demo-age = { $years } let
demo-sign-in-as = Přihlásit (úroveň { $level })
demo-no-level = Tato osoba nemá prostředek s požadovanou úrovní ověření.
demo-role-official = úřednice kraje
demo-role-registry_clerk = pracovník podatelny
logout-confirm-title = Odhlásit se ze všech služeb?
logout-confirm-text = Odhlášením ukončíte přihlášení do portálu i do všech ostatních služeb kraje, do kterých jste se v tomto prohlížeči přihlásili.
logout-confirm-button = Odhlásit se
signed-out-title = Jste odhlášeni
signed-out-text = Odhlásili jsme vás z portálu i ze všech služeb kraje, do kterých jste byli v tomto prohlížeči přihlášeni.
account-title = Můj účet
account-signed-out = Po přihlášení zde uvidíte své údaje, úroveň ověření, přihlášení v jiných zařízeních a bezpečnostní události.
account-identity = Údaje o vás
account-name = Jméno
account-birthdate = Datum narození
account-address = Adresa trvalého pobytu
account-email = E-mail
account-level = Úroveň ověření
account-step-up = Ověřit se na vysoké úrovni
account-logins = Propojená přihlášení
account-last-used = naposledy
account-sessions = Aktivní přihlášení
account-this-session = toto zařízení
account-end-session = Ukončit
account-events = Bezpečnostní události
account-sign-out-everywhere = Odhlásit se ze všech služeb
audit-sign-in = přihlášení
audit-sign-in-failed = neúspěšné přihlášení
audit-step-up = ověření na vyšší úrovni
audit-sign-out = odhlášení
audit-client-auth-failed = neúspěšné ověření aplikace
audit-token-reuse = opakované použití tokenu
audit-rate-limited = příliš mnoho pokusů
apply-level = Služba vyžaduje ověření totožnosti na úrovni nejméně
apply-sign-in = Přihlásit se a začít
apply-step-up = Ověřit se na požadované úrovni
apply-verified = Jste přihlášeni na dostatečné úrovni. Formulář vyplníme ověřenými údaji:
