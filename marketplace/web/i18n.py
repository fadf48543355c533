"""English and French for the pages: one catalogue, the language from a cookie (the switch) or Accept-Language.

Keys are dotted names; `{name}` placeholders are filled with str.format. A key missing in French falls back to
English (a test checks that both have the same keys). Money and dates are formatted per language here too.
"""

from __future__ import annotations

from datetime import datetime

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}
LANG_COOKIE = "mp_lang"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "site.name": "Creative Marketplace",
        "site.tagline": "Lëtzebuerg",
        "site.skip": "Skip to content",
        "nav.gallery": "Gallery",
        "nav.about": "About",
        "nav.studio": "Studio",
        "nav.collection": "My collection",
        "nav.signin": "Sign in",
        "nav.signup": "Sign up",
        "nav.signout": "Sign out",
        "nav.menu": "Main menu",
        "nav.language": "Language",
        "nav.signed_in_as": "Signed in as {name}",
        "footer.text": "Digital works by Luxembourg's creative industries: minted as NFTs, paid in euros.",
        "footer.api": "API",
        "footer.test_mode": "Payments run in test mode on this server.",
        "docs.noscript": "This page needs JavaScript. The API's OpenAPI description is at {url}.",
        # gallery
        "gallery.title": "Digital works by Luxembourg's creative industries",
        "gallery.lead": "Designers, musicians, photographers, film and game studios, architects and publishers "
                        "sell their works here. Each one is a token on a public chain that names its creator, "
                        "its licence and its royalty. Pay by card; no crypto wallet needed.",
        "gallery.search": "Search",
        "gallery.search_placeholder": "Title, description or creator",
        "gallery.discipline": "Discipline",
        "gallery.license": "Licence",
        "gallery.creator": "Creator",
        "gallery.min_price": "Min. price (€)",
        "gallery.max_price": "Max. price (€)",
        "gallery.sort": "Sort by",
        "gallery.any": "Any",
        "gallery.apply": "Apply",
        "gallery.reset": "Clear filters",
        "gallery.filters": "Filters",
        "gallery.count": "{count} works",
        "gallery.count_one": "1 work",
        "gallery.empty_title": "No works match",
        "gallery.empty_filtered": "Nothing matches these filters. Try fewer words, or clear the filters.",
        "gallery.empty_none": "No works are listed yet. Creators can add theirs in the studio.",
        "gallery.empty_cta": "Open the studio",
        "gallery.page": "Page {page} of {pages}",
        "gallery.past_end": "Page {page} is past the end: there are {count} works.",
        "gallery.past_end_one": "Page {page} is past the end: there is 1 work.",
        "gallery.last_page": "Go to the last page",
        "gallery.prev": "Previous",
        "gallery.next": "Next",
        "gallery.pagination": "Pages",
        "gallery.results": "Works",
        "sort.newest": "Newest",
        "sort.oldest": "Oldest",
        "sort.price_asc": "Price, low to high",
        "sort.price_desc": "Price, high to low",
        "sort.title": "Title A–Z",
        # disciplines and licences
        "discipline.design": "Design",
        "discipline.music": "Music",
        "discipline.photography": "Photography",
        "discipline.film": "Film",
        "discipline.games": "Games",
        "discipline.architecture": "Architecture",
        "discipline.publishing": "Publishing",
        "discipline.fashion": "Fashion",
        "discipline.digital-art": "Digital art",
        "license.CC0-1.0": "CC0 (public domain)",
        "license.CC-BY-4.0": "CC BY 4.0 (credit the creator)",
        "license.CC-BY-SA-4.0": "CC BY-SA 4.0 (credit, share alike)",
        "license.CC-BY-NC-4.0": "CC BY-NC 4.0 (credit, non-commercial)",
        "license.personal-use": "Personal use",
        "license.commercial-use": "Commercial use",
        "kind.image": "Image",
        "kind.audio": "Audio",
        "kind.video": "Video",
        "kind.document": "PDF document",
        "kind.model": "3D model",
        # statuses
        "status.draft": "Draft",
        "status.minting": "Minting…",
        "status.minted": "Minted",
        "status.mint_failed": "Minting failed",
        "sale.available": "For sale",
        "sale.reserved": "Reserved",
        "sale.sold": "Sold",
        "sale.not_listed": "Not for sale yet",
        # work page
        "work.by": "by {name}",
        "work.by_prefix": "by",
        "work.alt": "{title}, by {creator}",
        "work.audio_fallback": "Your browser cannot play this audio.",
        "work.video_fallback": "Your browser cannot play this video.",
        "work.open_pdf": "Open the PDF",
        "work.download_model": "Download the 3D model (glTF)",
        "work.model_note": "A glTF 3D model: open it in Blender, a game engine or any glTF viewer.",
        "work.download": "Download",
        "work.price": "Price",
        "work.license": "Licence",
        "work.royalty": "Royalty on resales",
        "work.discipline": "Discipline",
        "work.media": "Media",
        "work.sale_status": "Sale status",
        "work.edition": "Edition",
        "work.edition_unique": "Unique work (1 of 1)",
        "work.token": "The token",
        "work.token_pending": "The token is being minted. Its details appear here in a moment.",
        "work.token_none": "Not minted yet: the creator has not published this work.",
        "work.contract": "Contract",
        "work.token_id": "Token id",
        "work.owner": "Owner",
        "work.transaction": "Mint transaction",
        "work.metadata": "Metadata",
        "work.certificate": "Certificate",
        "work.buy": "Buy for {price}",
        "work.buy_note": "Secure card payment with Stripe. The token is delivered to your wallet on this platform.",
        "work.signin_to_buy": "Sign in to buy",
        "work.own_work": "This is your work.",
        "work.sold_note": "This work has been sold.",
        "work.reserved_note": "Another buyer is paying for this work right now. Check back in a few minutes.",
        "work.license_link": "Licence terms",
        "work.more_by": "More by {name}",
        "work.draft_note": "Only you can see this draft. Mint it in your studio to publish it.",
        # auth
        "auth.signin_title": "Sign in",
        "auth.signup_title": "Create an account",
        "auth.email": "E-mail",
        "auth.password": "Password",
        "auth.password_hint": "At least 8 characters.",
        "auth.display_name": "Name shown to others",
        "auth.role": "I want to",
        "auth.role_buyer": "Buy works",
        "auth.role_creator": "Sell my works (creator)",
        "auth.submit_signin": "Sign in",
        "auth.submit_signup": "Create my account",
        "auth.no_account": "No account yet?",
        "auth.have_account": "Already have an account?",
        "auth.bad_credentials": "Incorrect e-mail or password.",
        "auth.email_taken": "An account with this e-mail already exists.",
        "auth.welcome": "Welcome, {name}.",
        "auth.signed_out": "You are signed out.",
        "auth.signin_required": "Please sign in to continue.",
        "auth.too_many": "Too many attempts. Please wait {seconds} s and try again.",
        "err.busy": "The server is busy right now; nothing was saved. Please try again in a moment.",
        "err.rate_limited": "Too many attempts. Please wait {seconds} s and try again.",
        # validation
        "err.required": "Please fill in this field.",
        "err.email": "Enter a valid e-mail address.",
        "err.password_short": "The password needs at least 8 characters.",
        "err.too_long": "At most {max} characters.",
        "err.characters": "This text contains a character that is not allowed ({what}).",
        "err.choice": "Choose one of the options.",
        "err.price": "Enter a price in euros, e.g. 25 or 25.50.",
        "err.price_range": "The price must be between €0.01 and €1,000,000.",
        "err.price_fixed_sold": "This work is sold: its price is the one it sold for.",
        "err.price_fixed_checkout": "A buyer is paying for this work at its current price: change it once that checkout ends.",
        "err.royalty": "Enter a royalty between 0 and 25 %.",
        "err.file_required": "Choose a file to upload.",
        "err.file_too_large": "The file is larger than the {mb} MB limit.",
        "err.file_type": "This kind of file is not accepted. {accepted}",
        "err.form": "Please correct the fields marked below.",
        "err.csrf": "Your form expired. Reload the page and try again.",
        "err.service": "A service we depend on is unavailable right now; nothing was saved. Please try again.",
        "err.upload_failed": "The upload failed. Check your connection and try again.",
        # studio
        "studio.title": "Studio",
        "studio.lead": "Upload a work, mint it as a token, set its price, and follow your sales.",
        "studio.creators_only": "The studio is for creator accounts. Create a creator account to sell your works.",
        "studio.upload_title": "Add a work",
        "studio.file": "Media file",
        "studio.file_hint": "Image, audio, video, PDF or glTF 3D model, up to {mb} MB.",
        "studio.drop": "Drag and drop a file here, or",
        "studio.choose": "choose a file",
        "studio.preview": "Preview",
        "studio.no_preview": "No preview for this kind of file: {name} ({size}).",
        "studio.work_title": "Title",
        "studio.description": "Description",
        "studio.discipline": "Discipline",
        "studio.license": "Licence",
        "studio.price": "Price (€)",
        "studio.royalty": "Royalty on resales (%)",
        "studio.royalty_hint": "Paid to you each time the token is resold (0–25 %).",
        "studio.choose_option": "Choose…",
        "studio.submit": "Upload",
        "studio.uploading": "Uploading… {percent} %",
        "studio.processing": "Uploaded. Storing it on IPFS…",
        "studio.uploaded": "“{title}” is uploaded as a draft. Mint it to publish it.",
        "studio.progress": "Upload progress",
        "studio.my_works": "My works",
        "studio.no_works": "You have not uploaded a work yet.",
        "studio.col_work": "Work",
        "studio.col_status": "Status",
        "studio.col_price": "Price",
        "studio.col_sale": "Sale",
        "studio.mint": "Mint",
        "studio.mint_retry": "Try minting again",
        "studio.minting_note": "Minting on the chain…",
        "studio.minted_note": "Minted: token {token} in transaction {tx}.",
        "studio.mint_failed_note": "Minting failed: {error}",
        "studio.save_price": "Save price",
        "studio.price_saved": "Price saved.",
        "studio.price_for": "Price of {title} (€)",
        "studio.sales": "My sales",
        "studio.no_sales": "No sales yet.",
        "studio.earnings": "Earnings",
        "studio.balance": "Your balance",
        "studio.balance_note": "What you have earned from sales, after the platform fee and any refunds.",
        "studio.col_date": "Date",
        "studio.col_amount": "Paid",
        "studio.col_earned": "Your share",
        "studio.col_buyer_status": "Status",
        # purchases
        "purchase.title": "Your purchase",
        "purchase.not_found": "Purchase not found",
        "purchase.not_found_text": "There is no purchase with this number.",
        "purchase.pending": "Waiting for the payment to be confirmed…",
        "purchase.cancelled": "Payment not completed: you cancelled it, or your card was declined. "
                              "You were not charged.",
        "purchase.cancelled_hint": "The work stays reserved for you until the checkout expires. You can try again "
                                   "with the same or another card.",
        "purchase.retry": "Return to payment",
        "purchase.paid": "Payment received. Transferring the token to your wallet…",
        "purchase.delivered": "Delivered: the token is in your wallet.",
        "purchase.refunded": "Refunded: the payment was returned to your card.",
        "purchase.failed": "The payment failed. You were not charged.",
        "purchase.expired": "The checkout expired or was cancelled. You were not charged.",
        "purchase.reason": "Reason: {reason}",
        "purchase.amount": "Amount",
        "purchase.status": "Status",
        "purchase.view_certificate": "View the certificate",
        "purchase.view_collection": "Go to my collection",
        "purchase.back_to_work": "Back to the work",
        "purchase.live_note": "This page updates by itself.",
        "pstatus.pending": "Awaiting payment",
        "pstatus.paid": "Paid, delivering",
        "pstatus.delivered": "Delivered",
        "pstatus.refunded": "Refunded",
        "pstatus.failed": "Failed",
        "pstatus.expired": "Expired",
        "checkout.error": "The checkout could not be opened: {error}",
        "checkout.own": "You cannot buy your own work.",
        # collection
        "collection.title": "My collection",
        "collection.lead": "The tokens your wallet holds. Each has a certificate anyone can check.",
        "collection.empty": "You do not own any tokens yet. Find a work you like in the gallery.",
        "collection.wallet": "Your wallet",
        "collection.purchases": "My purchases",
        # certificate
        "cert.title": "Certificate of ownership",
        "cert.lead": "This page shows what the public chain and IPFS record about this token. Anyone with the link "
                     "can open it and check every value below.",
        "cert.work": "Work",
        "cert.creator": "Creator",
        "cert.media_cid": "Media (IPFS CID)",
        "cert.metadata_cid": "Metadata (IPFS CID)",
        "cert.token_uri": "Token URI",
        "cert.chain": "Chain id",
        "cert.minted_at": "Minted",
        "cert.royalty": "Royalty",
        "cert.verify": "The token id is the SHA-256 digest of the metadata document, so the metadata you fetch "
                       "from IPFS can be checked against the token itself.",
        "cert.not_found": "No token with this id on this marketplace.",
        # creator profile
        "creator.title": "{name}",
        "creator.works": "Works",
        "creator.member_since": "Member since {date}",
        "creator.no_works": "No published works yet.",
        "creator.wallet": "Wallet",
        # about
        "about.title": "About this marketplace",
        "about.lead": "A place where Luxembourg's creative industries sell digital works, with authorship and "
                      "terms on public record. In plain words:",
        "about.nft_title": "What is an NFT here?",
        "about.nft_body": "An NFT (non-fungible token) is an entry on a public ledger, the blockchain, that says "
                          "“this token belongs to this wallet”. Each work sold here gets exactly one token. The token "
                          "names the creator, points to the work and its licence, and records who owns it now. "
                          "Owning the token does not transfer the copyright: what you may do with the work is "
                          "written in its licence.",
        "about.ipfs_title": "What is IPFS?",
        "about.ipfs_body": "IPFS is a way to store files by their content instead of their location. Every file gets "
                           "an address (a CID) computed from its bytes, so if even one byte changes, the address "
                           "changes. The token points to such addresses, which is why nobody can swap the image or "
                           "the description behind your back.",
        "about.royalty_title": "What are royalties?",
        "about.royalty_body": "When creators list a work they choose a royalty, up to 25 %. It is recorded in the "
                              "token (the EIP-2981 standard), so marketplaces that respect it pay that share of "
                              "every resale price back to the creator.",
        "about.wallet_title": "Do I need a crypto wallet?",
        "about.wallet_body": "No. You pay by card in euros. When you sign up we set up a wallet for you and keep its "
                             "key safe; tokens you buy go there and appear in your collection.",
        "about.fees_title": "What does it cost?",
        "about.fees_body": "Buyers pay the listed price. Of each sale, the creator receives the price minus a "
                           "platform fee of {fee} %.",
        "about.cert_title": "How can I check a token?",
        "about.cert_body": "Every token has a certificate page with its contract address, token id, owner, "
                           "transaction and IPFS addresses. Anyone can open it, without an account.",
        # errors
        "error.title": "Something went wrong",
        "error.not_found": "Page not found",
        "error.not_found_text": "The page you are looking for does not exist or is not public.",
        "error.forbidden": "You are not allowed to do this.",
        "error.bad_request": "This request could not be understood.",
        "error.back": "Back to the gallery",
        "common.yes": "Yes",
        "common.no": "No",
        "common.close": "Close",
        "common.copy_hint": "Full value",
        "common.opens_ipfs": "opens the content from IPFS",
    },
    "fr": {
        "site.name": "Creative Marketplace",
        "site.tagline": "Lëtzebuerg",
        "site.skip": "Aller au contenu",
        "nav.gallery": "Galerie",
        "nav.about": "À propos",
        "nav.studio": "Atelier",
        "nav.collection": "Ma collection",
        "nav.signin": "Se connecter",
        "nav.signup": "Créer un compte",
        "nav.signout": "Se déconnecter",
        "nav.menu": "Menu principal",
        "nav.language": "Langue",
        "nav.signed_in_as": "Connecté·e : {name}",
        "footer.text": "Œuvres numériques des industries créatives du Luxembourg : émises en NFT, payées en euros.",
        "footer.api": "API",
        "footer.test_mode": "Sur ce serveur, les paiements sont en mode test.",
        "docs.noscript": "Cette page a besoin de JavaScript. La description OpenAPI de l'API se trouve à {url}.",
        "gallery.title": "Œuvres numériques des industries créatives du Luxembourg",
        "gallery.lead": "Designers, musiciens, photographes, studios de cinéma et de jeux vidéo, architectes et "
                        "éditeurs vendent ici leurs œuvres. Chacune est un jeton sur une chaîne publique qui nomme "
                        "son auteur, sa licence et ses redevances. Paiement par carte ; aucun portefeuille crypto "
                        "n'est nécessaire.",
        "gallery.search": "Rechercher",
        "gallery.search_placeholder": "Titre, description ou créateur",
        "gallery.discipline": "Discipline",
        "gallery.license": "Licence",
        "gallery.creator": "Créateur",
        "gallery.min_price": "Prix min. (€)",
        "gallery.max_price": "Prix max. (€)",
        "gallery.sort": "Trier par",
        "gallery.any": "Toutes",
        "gallery.apply": "Appliquer",
        "gallery.reset": "Effacer les filtres",
        "gallery.filters": "Filtres",
        "gallery.count": "{count} œuvres",
        "gallery.count_one": "1 œuvre",
        "gallery.empty_title": "Aucune œuvre ne correspond",
        "gallery.empty_filtered": "Rien ne correspond à ces filtres. Essayez moins de mots ou effacez les filtres.",
        "gallery.empty_none": "Aucune œuvre n'est encore en vente. Les créateurs peuvent ajouter les leurs dans "
                              "l'atelier.",
        "gallery.empty_cta": "Ouvrir l'atelier",
        "gallery.page": "Page {page} sur {pages}",
        "gallery.past_end": "La page {page} est après la fin : il y a {count} œuvres.",
        "gallery.past_end_one": "La page {page} est après la fin : il y a 1 œuvre.",
        "gallery.last_page": "Aller à la dernière page",
        "gallery.prev": "Précédente",
        "gallery.next": "Suivante",
        "gallery.pagination": "Pages",
        "gallery.results": "Œuvres",
        "sort.newest": "Plus récentes",
        "sort.oldest": "Plus anciennes",
        "sort.price_asc": "Prix croissant",
        "sort.price_desc": "Prix décroissant",
        "sort.title": "Titre A–Z",
        "discipline.design": "Design",
        "discipline.music": "Musique",
        "discipline.photography": "Photographie",
        "discipline.film": "Cinéma",
        "discipline.games": "Jeux vidéo",
        "discipline.architecture": "Architecture",
        "discipline.publishing": "Édition",
        "discipline.fashion": "Mode",
        "discipline.digital-art": "Art numérique",
        "license.CC0-1.0": "CC0 (domaine public)",
        "license.CC-BY-4.0": "CC BY 4.0 (citer l'auteur)",
        "license.CC-BY-SA-4.0": "CC BY-SA 4.0 (citer, partager à l'identique)",
        "license.CC-BY-NC-4.0": "CC BY-NC 4.0 (citer, pas d'usage commercial)",
        "license.personal-use": "Usage personnel",
        "license.commercial-use": "Usage commercial",
        "kind.image": "Image",
        "kind.audio": "Audio",
        "kind.video": "Vidéo",
        "kind.document": "Document PDF",
        "kind.model": "Modèle 3D",
        "status.draft": "Brouillon",
        "status.minting": "Émission en cours…",
        "status.minted": "Émis",
        "status.mint_failed": "Échec de l'émission",
        "sale.available": "En vente",
        "sale.reserved": "Réservée",
        "sale.sold": "Vendue",
        "sale.not_listed": "Pas encore en vente",
        "work.by": "par {name}",
        "work.by_prefix": "par",
        "work.alt": "{title}, par {creator}",
        "work.audio_fallback": "Votre navigateur ne peut pas lire cet audio.",
        "work.video_fallback": "Votre navigateur ne peut pas lire cette vidéo.",
        "work.open_pdf": "Ouvrir le PDF",
        "work.download_model": "Télécharger le modèle 3D (glTF)",
        "work.model_note": "Un modèle 3D glTF : ouvrez-le dans Blender, un moteur de jeu ou une visionneuse glTF.",
        "work.download": "Télécharger",
        "work.price": "Prix",
        "work.license": "Licence",
        "work.royalty": "Redevance sur les reventes",
        "work.discipline": "Discipline",
        "work.media": "Média",
        "work.sale_status": "Disponibilité",
        "work.edition": "Édition",
        "work.edition_unique": "Œuvre unique (1 sur 1)",
        "work.token": "Le jeton",
        "work.token_pending": "Le jeton est en cours d'émission. Ses détails apparaîtront ici dans un instant.",
        "work.token_none": "Pas encore émis : le créateur n'a pas publié cette œuvre.",
        "work.contract": "Contrat",
        "work.token_id": "Identifiant du jeton",
        "work.owner": "Propriétaire",
        "work.transaction": "Transaction d'émission",
        "work.metadata": "Métadonnées",
        "work.certificate": "Certificat",
        "work.buy": "Acheter pour {price}",
        "work.buy_note": "Paiement sécurisé par carte avec Stripe. Le jeton est livré dans votre portefeuille sur "
                         "cette plateforme.",
        "work.signin_to_buy": "Se connecter pour acheter",
        "work.own_work": "C'est votre œuvre.",
        "work.sold_note": "Cette œuvre a été vendue.",
        "work.reserved_note": "Un autre acheteur est en train de payer cette œuvre. Revenez dans quelques minutes.",
        "work.license_link": "Conditions de la licence",
        "work.more_by": "Autres œuvres de {name}",
        "work.draft_note": "Vous seul·e voyez ce brouillon. Émettez-le depuis votre atelier pour le publier.",
        "auth.signin_title": "Se connecter",
        "auth.signup_title": "Créer un compte",
        "auth.email": "E-mail",
        "auth.password": "Mot de passe",
        "auth.password_hint": "Au moins 8 caractères.",
        "auth.display_name": "Nom affiché",
        "auth.role": "Je veux",
        "auth.role_buyer": "Acheter des œuvres",
        "auth.role_creator": "Vendre mes œuvres (créateur)",
        "auth.submit_signin": "Se connecter",
        "auth.submit_signup": "Créer mon compte",
        "auth.no_account": "Pas encore de compte ?",
        "auth.have_account": "Vous avez déjà un compte ?",
        "auth.bad_credentials": "E-mail ou mot de passe incorrect.",
        "auth.email_taken": "Un compte existe déjà avec cet e-mail.",
        "auth.welcome": "Bienvenue, {name}.",
        "auth.signed_out": "Vous êtes déconnecté·e.",
        "auth.signin_required": "Veuillez vous connecter pour continuer.",
        "auth.too_many": "Trop de tentatives. Patientez {seconds} s puis réessayez.",
        "err.busy": "Le serveur est très sollicité ; rien n'a été enregistré. Réessayez dans un instant.",
        "err.rate_limited": "Trop de tentatives. Patientez {seconds} s puis réessayez.",
        "err.required": "Veuillez remplir ce champ.",
        "err.email": "Saisissez une adresse e-mail valide.",
        "err.password_short": "Le mot de passe doit compter au moins 8 caractères.",
        "err.too_long": "{max} caractères au maximum.",
        "err.characters": "Ce texte contient un caractère non autorisé ({what}).",
        "err.choice": "Choisissez l'une des options.",
        "err.price": "Saisissez un prix en euros, par ex. 25 ou 25,50.",
        "err.price_range": "Le prix doit être compris entre 0,01 € et 1 000 000 €.",
        "err.price_fixed_sold": "Cette œuvre est vendue : son prix est celui auquel elle a été vendue.",
        "err.price_fixed_checkout": "Un acheteur est en train de payer cette œuvre à son prix actuel : modifiez-le une fois ce paiement terminé.",
        "err.royalty": "Saisissez une redevance entre 0 et 25 %.",
        "err.file_required": "Choisissez un fichier à envoyer.",
        "err.file_too_large": "Le fichier dépasse la limite de {mb} Mo.",
        "err.file_type": "Ce type de fichier n'est pas accepté. {accepted}",
        "err.form": "Veuillez corriger les champs signalés ci-dessous.",
        "err.csrf": "Votre formulaire a expiré. Rechargez la page et réessayez.",
        "err.service": "Un service dont nous dépendons est indisponible ; rien n'a été enregistré. Réessayez.",
        "err.upload_failed": "L'envoi a échoué. Vérifiez votre connexion et réessayez.",
        "studio.title": "Atelier",
        "studio.lead": "Ajoutez une œuvre, émettez-la en jeton, fixez son prix et suivez vos ventes.",
        "studio.creators_only": "L'atelier est réservé aux comptes créateur. Créez un compte créateur pour vendre "
                                "vos œuvres.",
        "studio.upload_title": "Ajouter une œuvre",
        "studio.file": "Fichier",
        "studio.file_hint": "Image, audio, vidéo, PDF ou modèle 3D glTF, jusqu'à {mb} Mo.",
        "studio.drop": "Glissez-déposez un fichier ici, ou",
        "studio.choose": "choisissez un fichier",
        "studio.preview": "Aperçu",
        "studio.no_preview": "Pas d'aperçu pour ce type de fichier : {name} ({size}).",
        "studio.work_title": "Titre",
        "studio.description": "Description",
        "studio.discipline": "Discipline",
        "studio.license": "Licence",
        "studio.price": "Prix (€)",
        "studio.royalty": "Redevance sur les reventes (%)",
        "studio.royalty_hint": "Vous est versée à chaque revente du jeton (0 à 25 %).",
        "studio.choose_option": "Choisir…",
        "studio.submit": "Envoyer",
        "studio.uploading": "Envoi en cours… {percent} %",
        "studio.processing": "Envoyé. Enregistrement sur IPFS…",
        "studio.uploaded": "« {title} » est enregistrée comme brouillon. Émettez-la pour la publier.",
        "studio.progress": "Progression de l'envoi",
        "studio.my_works": "Mes œuvres",
        "studio.no_works": "Vous n'avez encore envoyé aucune œuvre.",
        "studio.col_work": "Œuvre",
        "studio.col_status": "État",
        "studio.col_price": "Prix",
        "studio.col_sale": "Vente",
        "studio.mint": "Émettre",
        "studio.mint_retry": "Réessayer l'émission",
        "studio.minting_note": "Émission sur la chaîne…",
        "studio.minted_note": "Émis : jeton {token}, transaction {tx}.",
        "studio.mint_failed_note": "L'émission a échoué : {error}",
        "studio.save_price": "Enregistrer le prix",
        "studio.price_saved": "Prix enregistré.",
        "studio.price_for": "Prix de {title} (€)",
        "studio.sales": "Mes ventes",
        "studio.no_sales": "Aucune vente pour l'instant.",
        "studio.earnings": "Revenus",
        "studio.balance": "Votre solde",
        "studio.balance_note": "Ce que vos ventes vous ont rapporté, après la commission de la plateforme et les "
                               "remboursements éventuels.",
        "studio.col_date": "Date",
        "studio.col_amount": "Payé",
        "studio.col_earned": "Votre part",
        "studio.col_buyer_status": "État",
        "purchase.title": "Votre achat",
        "purchase.not_found": "Achat introuvable",
        "purchase.not_found_text": "Il n'existe aucun achat avec ce numéro.",
        "purchase.pending": "En attente de la confirmation du paiement…",
        "purchase.cancelled": "Paiement non effectué : vous l'avez annulé ou votre carte a été refusée. "
                              "Vous n'avez pas été débité·e.",
        "purchase.cancelled_hint": "L'œuvre reste réservée pour vous jusqu'à l'expiration du paiement. Vous pouvez "
                                   "réessayer avec la même carte ou une autre.",
        "purchase.retry": "Revenir au paiement",
        "purchase.paid": "Paiement reçu. Transfert du jeton vers votre portefeuille…",
        "purchase.delivered": "Livré : le jeton est dans votre portefeuille.",
        "purchase.refunded": "Remboursé : le paiement a été restitué sur votre carte.",
        "purchase.failed": "Le paiement a échoué. Vous n'avez pas été débité·e.",
        "purchase.expired": "Le paiement a expiré ou a été annulé. Vous n'avez pas été débité·e.",
        "purchase.reason": "Motif : {reason}",
        "purchase.amount": "Montant",
        "purchase.status": "État",
        "purchase.view_certificate": "Voir le certificat",
        "purchase.view_collection": "Voir ma collection",
        "purchase.back_to_work": "Retour à l'œuvre",
        "purchase.live_note": "Cette page se met à jour d'elle-même.",
        "pstatus.pending": "En attente du paiement",
        "pstatus.paid": "Payé, livraison en cours",
        "pstatus.delivered": "Livré",
        "pstatus.refunded": "Remboursé",
        "pstatus.failed": "Échoué",
        "pstatus.expired": "Expiré",
        "checkout.error": "Le paiement n'a pas pu être ouvert : {error}",
        "checkout.own": "Vous ne pouvez pas acheter votre propre œuvre.",
        "collection.title": "Ma collection",
        "collection.lead": "Les jetons que détient votre portefeuille. Chacun a un certificat vérifiable par tous.",
        "collection.empty": "Vous ne possédez encore aucun jeton. Trouvez une œuvre qui vous plaît dans la galerie.",
        "collection.wallet": "Votre portefeuille",
        "collection.purchases": "Mes achats",
        "cert.title": "Certificat de propriété",
        "cert.lead": "Cette page montre ce que la chaîne publique et IPFS enregistrent pour ce jeton. Toute personne "
                     "disposant du lien peut l'ouvrir et vérifier chaque valeur ci-dessous.",
        "cert.work": "Œuvre",
        "cert.creator": "Créateur",
        "cert.media_cid": "Média (CID IPFS)",
        "cert.metadata_cid": "Métadonnées (CID IPFS)",
        "cert.token_uri": "URI du jeton",
        "cert.chain": "Identifiant de la chaîne",
        "cert.minted_at": "Émis le",
        "cert.royalty": "Redevance",
        "cert.verify": "L'identifiant du jeton est l'empreinte SHA-256 du document de métadonnées : les métadonnées "
                       "obtenues sur IPFS peuvent donc être vérifiées à partir du jeton lui-même.",
        "cert.not_found": "Aucun jeton avec cet identifiant sur cette plateforme.",
        "creator.title": "{name}",
        "creator.works": "Œuvres",
        "creator.member_since": "Membre depuis le {date}",
        "creator.no_works": "Aucune œuvre publiée pour l'instant.",
        "creator.wallet": "Portefeuille",
        "about.title": "À propos de cette plateforme",
        "about.lead": "Un lieu où les industries créatives du Luxembourg vendent des œuvres numériques, avec leur "
                      "paternité et leurs conditions enregistrées publiquement. En termes simples :",
        "about.nft_title": "Qu'est-ce qu'un NFT ici ?",
        "about.nft_body": "Un NFT (jeton non fongible) est une inscription dans un registre public, la blockchain, "
                          "qui dit « ce jeton appartient à ce portefeuille ». Chaque œuvre vendue ici reçoit un seul "
                          "jeton. Il nomme le créateur, renvoie à l'œuvre et à sa licence, et indique qui la possède. "
                          "Posséder le jeton ne transfère pas le droit d'auteur : ce que vous pouvez faire de l'œuvre "
                          "est écrit dans sa licence.",
        "about.ipfs_title": "Qu'est-ce qu'IPFS ?",
        "about.ipfs_body": "IPFS permet de stocker des fichiers selon leur contenu plutôt que leur emplacement. "
                           "Chaque fichier reçoit une adresse (un CID) calculée à partir de ses octets : si un seul "
                           "octet change, l'adresse change. Le jeton renvoie à ces adresses, si bien que personne ne "
                           "peut remplacer l'image ou la description à votre insu.",
        "about.royalty_title": "Que sont les redevances ?",
        "about.royalty_body": "En mettant une œuvre en vente, le créateur choisit une redevance, jusqu'à 25 %. Elle "
                              "est inscrite dans le jeton (norme EIP-2981) : les places de marché qui la respectent "
                              "reversent cette part de chaque prix de revente au créateur.",
        "about.wallet_title": "Faut-il un portefeuille crypto ?",
        "about.wallet_body": "Non. Vous payez par carte en euros. À l'inscription, nous créons pour vous un "
                             "portefeuille dont nous gardons la clé en sécurité ; les jetons achetés y arrivent et "
                             "apparaissent dans votre collection.",
        "about.fees_title": "Combien cela coûte-t-il ?",
        "about.fees_body": "Les acheteurs paient le prix affiché. Sur chaque vente, le créateur reçoit le prix moins "
                           "une commission de la plateforme de {fee} %.",
        "about.cert_title": "Comment vérifier un jeton ?",
        "about.cert_body": "Chaque jeton a une page de certificat avec l'adresse du contrat, l'identifiant du jeton, "
                           "le propriétaire, la transaction et les adresses IPFS. Tout le monde peut l'ouvrir, sans "
                           "compte.",
        "error.title": "Une erreur est survenue",
        "error.not_found": "Page introuvable",
        "error.not_found_text": "La page demandée n'existe pas ou n'est pas publique.",
        "error.forbidden": "Vous n'êtes pas autorisé·e à faire cela.",
        "error.bad_request": "Cette requête n'a pas pu être comprise.",
        "error.back": "Retour à la galerie",
        "common.yes": "Oui",
        "common.no": "Non",
        "common.close": "Fermer",
        "common.copy_hint": "Valeur complète",
        "common.opens_ipfs": "ouvre le contenu depuis IPFS",
    },
}


def negotiate(accept_language: str | None, cookie: str | None = None) -> str:
    """The cookie (the switch) wins; then the first supported language in Accept-Language by q-value."""
    if cookie in LANGUAGES:
        return cookie
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for position, part in enumerate((accept_language or "").split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0]
        if primary in LANGUAGES and q > 0 and (q > best_q):
            best, best_q = primary, q - position * 1e-6  # equal q: the earlier one wins
    return best


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._messages = MESSAGES[self.lang]

    def __call__(self, key: str, **values) -> str:
        text = self._messages.get(key) or MESSAGES[DEFAULT_LANGUAGE].get(key) or key
        return text.format(**values) if values else text

    def money(self, cents: int | None, currency: str = "EUR") -> str:
        if cents is None:
            return ""
        sign = "-" if cents < 0 else ""
        whole, frac = divmod(abs(int(cents)), 100)
        symbol = "€" if currency.upper() == "EUR" else currency.upper()
        if self.lang == "fr":
            grouped = f"{whole:,}".replace(",", "\u202f")
            return f"{sign}{grouped},{frac:02d}\u00a0{symbol}"
        return f"{sign}{symbol}{whole:,}.{frac:02d}"

    def percent_bps(self, bps: int | None) -> str:
        value = f"{(bps or 0) / 100:g}"
        if self.lang == "fr":
            return value.replace(".", ",") + "\u00a0%"
        return value + "%"

    def date(self, value: datetime | None) -> str:
        if value is None:
            return ""
        if self.lang == "fr":
            months = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                      "octobre", "novembre", "décembre")
            return f"{value.day} {months[value.month - 1]} {value.year}"
        return value.strftime("%-d %B %Y")

    def number(self, value: str) -> str:
        """A euro amount for an input field (25.50 or 25,50)."""
        return value.replace(".", ",") if self.lang == "fr" else value
