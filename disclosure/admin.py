"""The glue puts the instance-wide admins of the libraries (accounts, their addresses and
authenticators, groups, the site) in superusers' hands only (projects.admin.SuperusersOnly):
no project role reaches them, whatever model permissions staff hold.
"""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sites.models import Site

from projects.admin import SuperusersOnly

for model in (get_user_model(), Group, Site, EmailAddress, Authenticator):
    library_admin = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    admin.site.register(model, type(library_admin.__name__, (SuperusersOnly, library_admin), {}))
