"""Login, logout, the home page that sends each user to their front end, the health check, the icon."""

from django.contrib.auth import views as auth_views
from django.urls import path

from parley.core import views

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
]
