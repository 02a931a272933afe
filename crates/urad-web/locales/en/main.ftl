# English texts of the portal. Every message here must exist in ../cs/main.ftl too (a test checks).

site-name = Service portal
skip-link = Skip to main content
nav-label = Main navigation
nav-home = Home
nav-catalog = All services
lang-switch = Čeština
lang-switch-label = Přepnout do češtiny
footer-contact = Contact
footer-data-box = Data box
footer-email = Electronic filing office
footer-phone = Phone
footer-hours = Office hours
footer-demo = Demonstration: the content is sample data.

home-title = Service portal of the regional office
home-heading = Deal with the regional office from home
home-lead = { $count ->
    [one] Here you find { $count } service of the office: what it is, who may use it, what it costs and how to get it done.
   *[other] Here you find { $count } services of the office: what they are, who may use them, what they cost and how to get them done.
}
search-label = Search for a service
search-hint = For example “boiler grant”, “public collection” or “vehicle inspection”.
search-button = Search
home-situations = Life situations
home-applicants = Who is it for
home-popular = Most used services
home-all-services = Show all services
applicant-citizen-note = Services for residents of the region.
applicant-sole-trader-note = Services for sole traders and the self-employed.
applicant-company-note = Services for companies, associations and other organisations.
applicant-municipality-note = Services and support for municipalities and towns.

catalog-title = Services of the office
search-title = Search: { $query }
catalog-heading = Services of the regional office
filters-heading = Search and filter
filter-q-label = Search text
filter-applicant-label = Who is applying
filter-situation-label = Life situation
filter-agenda-label = Agenda
filter-channel-label = How it is done
filter-any-applicant = Anyone
filter-any-situation = All life situations
filter-any-agenda = All agendas
filter-any-channel = Online or in person
filter-apply = Show results
filter-clear = Clear filters
result-count = { $count ->
    [one] { $count } service found
   *[other] { $count } services found
}
results-label = Results
no-results = No service matches your search.
no-results-hint = Try other words or clear some of the filters.
error-summary-title = The search cannot be done
pagination-label = Result pages
pagination-prev = Previous page
pagination-next = Next page
pagination-status = Page { $page } of { $pages }
query-malformed = The address contains malformed parameters. Please search again from the form.
filter-bad-applicant = We do not know the applicant type “{ $value }”. Choose an applicant from the list.
filter-bad-situation = We do not know the life situation “{ $value }”. Choose a life situation from the list.
filter-bad-agenda = We do not know the agenda “{ $value }”. Choose an agenda from the list.
filter-bad-channel = We do not know the channel “{ $value }”. Choose “online” or “in person”.
filter-query-too-long = The search text is too long. Shorten it to at most { $max } characters.
filter-bad-page = The page number “{ $value }” is not valid. Use a whole number from 1.
filter-bad-per-page = The number of results per page “{ $value }” is not valid. Use a number from 1 to 100.
channel-online-badge = Can be done online

fact-applicants = Who may use it
fact-channel = How it is done
fact-fee = Administrative fee
fact-processing-time = Processing time
fact-agenda = Agenda
fact-department = Department
fee-none = No fee
processing-on-the-spot = On the spot
processing-days = { $days ->
    [one] Within { $days } day
   *[other] Within { $days } days
}
service-facts = Overview
service-description = About the service
service-documents = What you will need
service-no-documents = You do not need to prepare anything else.
service-in-person = In person
in-person-reason = Why you need to come in person
in-person-place = Where to go
service-start = Start the service online
service-start-hint = You fill in an electronic form and receive a receipt of delivery.
service-legal-basis = Legislation
service-situations = Life situations
service-contact = Contact
service-office-hours = Office hours
breadcrumbs-label = Breadcrumbs

apply-title = Apply: { $service }
apply-heading = Electronic submission
apply-lead = Before you start, have ready:
apply-identity = You sign in with a citizen identity (electronic ID card or bank identity). The form fills in your details from it.
apply-form-coming = The electronic form of this service is being prepared on the portal. You can already submit in these ways:
apply-data-box = Through the office's data box
apply-email = By e-mail to the electronic filing office, with a recognised electronic signature
apply-back = Back to the service description

error-404-title = Page not found
error-404-text = The page you are looking for does not exist or has moved. Check the address or search for the service.
error-400-title = The request cannot be processed
error-400-text = The address contains invalid data. Please start again from the home page.
error-500-title = Sorry, something went wrong on our side
error-500-text = Please try again in a moment. If the problem persists, contact us and quote the request code.
error-request-id = Request code
error-back-home = Go to the home page
error-search = Search for a service

api-no-service = There is no service “{ $slug }”.

footer-accessibility = Accessibility statement
a11y-title = Accessibility statement
a11y-intro = The regional office is committed to making this portal accessible in accordance with Act No. 99/2019 Coll. on the accessibility of websites and mobile applications.
a11y-status-heading = Compliance status
a11y-status = The portal meets the requirements of EN 301 549 and level AA of WCAG 2.1. All pages work without JavaScript and can be used with a keyboard.
a11y-method-heading = How we assessed it
a11y-method = We assessed compliance ourselves: with every change, automated tests (axe, WCAG 2.1 A and AA rules) check every page type in Czech and English in a real browser, and further tests check keyboard use. No independent audit has taken place yet.
a11y-feedback-heading = Feedback and contact
a11y-feedback = Did you meet a barrier? Write to us what did not work and on which page; we answer within 30 days and give you the content another way in the meantime.
a11y-enforcement-heading = Enforcement
a11y-enforcement = If you are not satisfied with our answer, you can turn to the Ministry of the Interior, which oversees compliance with Act No. 99/2019 Coll.
a11y-date = This statement was prepared on 23 November 2026.

## Sign-in, the identity gateway and My account
nav-sign-in = Sign in
nav-sign-out = Sign out
nav-account = My account
loa-low = low
loa-substantial = substantial
loa-high = high
signin-error-title = Sign-in did not succeed
signin-error-expired = The sign-in has expired or was already completed. Go back to the service and sign in again.
signin-error-other-browser = The sign-in was started in another browser or window. For your safety, finish it where you started, or start again.
signin-error-unavailable = Sign-in is unavailable right now. Please try again in a moment.
signin-error-upstream = The identity provider did not complete the sign-in or answered with an error. Try again, or choose another way to sign in.
signin-error-missing-client = The sign-in link does not say which service it is for (client_id). Go back to the service and try again.
signin-error-unknown-client = The service that sent you here is not registered with the identity gateway. Contact its operator.
signin-error-missing-redirect-uri = The sign-in link lacks the address to return to the service (redirect_uri).
signin-error-unregistered-redirect-uri = The address to return to is not registered for the service, so for your safety we will not send you there.
signin-error-server-error = Sign-in is unavailable right now. Please try again in a moment.
signin-error-bad-hint = The sign-out link carries an invalid value (id_token_hint). You can sign out in My account.
signin-error-bad-logout-uri = The address to return to after signing out is not registered for this service.
signin-error-demo-request = The demo identity provider received an incomplete request. Start the sign-in again from the service.
signin-error-demo-level = The chosen person does not have this level of assurance. Choose another level or person.
signin-error-level = The service needs a higher level of assurance than your sign-in reached. Sign in with a stronger means (e.g. an ID card with a chip).
signin-error-cancelled = The sign-in was cancelled. You can try again.
signin-error-csrf = The form has expired. Reload the page and try again.
chooser-title = Choose how to sign in
chooser-lead = The service needs a level of assurance of at least
demo-tag = demo
demo-title = Demo identity provider
demo-banner = DEMO – this is not a real sign-in. The people are invented and only for trying out the portal.
demo-lead = Choose a test person and a level of assurance. The service asks for at least
demo-age = { $years } years
demo-sign-in-as = Sign in (level { $level })
demo-no-level = This person has no means with the level asked for.
demo-role-official = regional official
demo-role-registry_clerk = filing-office clerk
logout-confirm-title = Sign out of every service?
logout-confirm-text = Signing out ends your sign-in to the portal and to every other regional service you signed in to in this browser.
logout-confirm-button = Sign out
signed-out-title = You are signed out
signed-out-text = We signed you out of the portal and of every regional service you were signed in to in this browser.
account-title = My account
account-signed-out = Once signed in you will see your data, your level of assurance, your sign-ins on other devices and security events here.
account-identity = Your data
account-name = Name
account-birthdate = Date of birth
account-address = Permanent address
account-email = Email
account-level = Level of assurance
account-step-up = Verify at the high level
account-logins = Linked sign-ins
account-last-used = last used
account-sessions = Active sign-ins
account-this-session = this device
account-end-session = End
account-events = Security events
account-sign-out-everywhere = Sign out of every service
audit-sign-in = signed in
audit-sign-in-failed = failed sign-in
audit-step-up = verified at a higher level
audit-sign-out = signed out
audit-client-auth-failed = failed application authentication
audit-token-reuse = token used again
audit-rate-limited = too many attempts
apply-level = The service needs your identity verified at a level of at least
apply-sign-in = Sign in and start
apply-step-up = Verify at the level needed
apply-verified = You are signed in at a sufficient level. The form will be filled with your verified data:
