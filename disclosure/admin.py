"""The glue puts the instance-wide admins of the libraries (accounts, their addresses and
authenticators, groups) in superusers' hands only (projects.admin.SuperusersOnly): no project
role reaches them, whatever model permissions staff hold. The sites framework's row is not
administered at all: the platform reads SITE_URL, and deleting the row breaks every sign-in.
"""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sites.models import Site

from projects.admin import SuperusersOnly

admin.site.unregister(Site)

for model in (get_user_model(), Group, EmailAddress, Authenticator):
    library_admin = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    admin.site.register(model, type(library_admin.__name__, (SuperusersOnly, library_admin), {}))
